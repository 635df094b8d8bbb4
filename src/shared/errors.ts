import { inert } from '../shared/inert-text.js';

/**
 * The error vocabulary. A UserError is something the user can fix (bad config, bad usage); any other
 * exception is a bug in wxpay-notify. Exit codes are decided here and only here; only the CLI exits.
 */

export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Error codes in use: `E_USAGE` (bad command line), `E_CONFIG` (the config has problems, see
 * ConfigError), `E_CONFIG_NOT_FOUND`, `E_CONFIG_UNREADABLE`, `E_CONFIG_FORMAT` (unknown extension).
 * Other modules may add their own `E_…` codes.
 */
export class UserError extends Error {
  readonly code: string;
  readonly exitCode = EXIT.usage;

  constructor(message: string, code = 'E_USAGE') {
    super(message);
    this.name = 'UserError';
    this.code = code;
  }
}

/** One thing wrong with a config: `path` is the field (`v2.apiKey`, `order.total`), '' for the file. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Every problem found in one config file, reported together, one line each. */
export class ConfigError extends UserError {
  readonly configFile: string;
  readonly problems: ConfigProblem[];

  constructor(configFile: string, problems: ConfigProblem[]) {
    super(problems.map((problem) => formatProblem(configFile, problem)).join('\n'), 'E_CONFIG');
    this.name = 'ConfigError';
    this.configFile = configFile;
    this.problems = problems;
  }
}

/**
 * `<configFile>: <path>: <message>`, or `<configFile>: <message>` for a problem with the whole file.
 * The file name is the user's, shown inert: a line break in it must not start a line of its own.
 */
export function formatProblem(configFile: string, problem: ConfigProblem): string {
  const file = inert(configFile);
  return problem.path === '' ? `${file}: ${problem.message}` : `${file}: ${problem.path}: ${problem.message}`;
}

/** The exit code for an error that reached the CLI: the user's to fix (2) or our bug (3). */
export function exitCodeFor(error: unknown): ExitCode {
  return error instanceof UserError ? error.exitCode : EXIT.internal;
}
