/** Report files `run --reporters` can write (a light module: the CLI lists them before loading `run`). */
export type ReporterName = 'junit' | 'json' | 'html';
export const REPORTERS: readonly ReporterName[] = ['junit', 'json', 'html'];
