/** What `generate --format` writes. A module of its own so the CLI can list the choices cheaply. */
export type OutputFormat = 'postman' | 'bruno' | 'artillery';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['postman', 'bruno', 'artillery'];
