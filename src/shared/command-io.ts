import { redact } from './redact.js';
import { inertForTerminal } from './inert-text.js';

/**
 * Where a command writes: the one place text reaches a terminal. Everything passes the redactor (a
 * secret never reaches a terminal or log), then is made inert (src/shared/inert-text.ts): escape
 * sequences, controls and invisible characters from outside are shown as `\uXXXX`; only our own
 * colours survive, and only when colour is on.
 */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  /** Colour and live progress only on a terminal, and never when NO_COLOR is set. */
  color: boolean;
  tty: boolean;
  /** Register secrets as soon as they are known. */
  addSecrets(secrets: readonly string[]): void;
}

export function processIO(): CommandIO {
  const secrets: string[] = [];
  const tty = Boolean(process.stdout.isTTY);
  const color = tty && !process.env.NO_COLOR;
  return {
    out: (text) => void process.stdout.write(inertForTerminal(redact(text, secrets), { color })),
    // Colour is decided by stdout; stderr never carries any.
    err: (text) => void process.stderr.write(inertForTerminal(redact(text, secrets), { color: false })),
    color,
    tty,
    addSecrets: (list) => void secrets.push(...list),
  };
}

/** Captures output in memory (tests, and the library API). */
export function memoryIO(): CommandIO & { stdout: string; stderr: string } {
  const secrets: string[] = [];
  const io = {
    stdout: '',
    stderr: '',
    color: false,
    tty: false,
    out(text: string) {
      io.stdout += inertForTerminal(redact(text, secrets), { color: false });
    },
    err(text: string) {
      io.stderr += inertForTerminal(redact(text, secrets), { color: false });
    },
    addSecrets(list: readonly string[]) {
      secrets.push(...list);
    },
  };
  return io;
}
