import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface OutputFile {
  path: string;
  content: string;
  /** 0o600 for files holding secrets. */
  mode?: number;
}

/**
 * Writes every file to a temporary name first and renames only when all were written, so a failure
 * half-way leaves the previous files as they were.
 */
export function writeFilesAtomic(files: readonly OutputFile[]): void {
  const staged: { temp: string; path: string }[] = [];
  try {
    for (const file of files) {
      mkdirSync(dirname(file.path), { recursive: true });
      const temp = join(dirname(file.path), `.${basename(file.path)}.${randomBytes(4).toString('hex')}.tmp`);
      writeFileSync(temp, file.content, { mode: file.mode ?? 0o644, flag: 'wx' });
      staged.push({ temp, path: file.path });
    }
    for (const s of staged) renameSync(s.temp, s.path);
  } catch (error) {
    for (const s of staged) rmSync(s.temp, { force: true });
    throw error;
  }
}
