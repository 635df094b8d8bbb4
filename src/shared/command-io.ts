import { redact } from './redact.js';

/** Where a command writes. Everything passes the redactor: a secret never reaches a terminal or log. */
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
  return {
    out: (text) => void process.stdout.write(redact(text, secrets)),
    err: (text) => void process.stderr.write(redact(text, secrets)),
    color: tty && !process.env.NO_COLOR,
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
      io.stdout += redact(text, secrets);
    },
    err(text: string) {
      io.stderr += redact(text, secrets);
    },
    addSecrets(list: readonly string[]) {
      secrets.push(...list);
    },
  };
  return io;
}
