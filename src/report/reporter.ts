import type { CommandIO } from '../commands/io.js';
import type { RunEvents } from '../runner/suite-run.js';

/** What every report knows about the run besides its events. */
export interface ReportMeta {
  /** The config as the user named it (a file path, or `demo`). */
  config: string;
  /** The collection (config) name: report titles and file names. */
  collection: string;
  /** Controls the case filter left out and the run added back (see selectCasesWithControls). */
  addedControls: readonly { id: string; for: string[] }[];
  /** Every secret of the run. Results come masked; a report that quotes more masks that too. */
  secrets: readonly string[];
}

export interface ReporterContext {
  meta: ReportMeta;
  /** The terminal, for live progress (on stderr, when `io.tty`). */
  io: CommandIO;
  /**
   * Hands over the finished report: printed on stdout (`--format`), or written into its file
   * (`--reporters`) together with the run's other report files, in one commit after `done`.
   */
  write(content: string): void;
}

/**
 * A reporter listens to a run's events and writes one report, as a newman reporter does; reporters
 * know nothing of each other. A new one is a file in src/report/reporters/ and a line in its index
 * (and, to offer it as a `--reporters` file, its name in commands/reporters.ts).
 */
export interface Reporter {
  /** The report file's name after the collection's: `junit.xml` → `<name>.junit.xml`. None: stdout only. */
  file?: string;
  listen(run: RunEvents, context: ReporterContext): void;
}
