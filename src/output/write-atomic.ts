import { copyFileSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { prepareOutputDir, writeFailure } from './output-dir.js';

export interface OutputFile {
  path: string;
  content: string;
  /** 0o600 for files holding secrets. */
  mode?: number;
}

const tempBeside = (path: string, tag: string): string =>
  join(dirname(path), `.${basename(path)}.${tag}.${randomBytes(4).toString('hex')}.tmp`);

/**
 * Writes a set of files all or nothing: each is staged in a temp file beside its target, the
 * previous versions are kept aside, and only when every rename succeeded are they dropped. A
 * failure at any point leaves the previous files as they were (a collection never ends up next to
 * an environment from another generation) and no temp file behind. A file-system failure (no
 * permission, a full disk) is thrown as a UserError naming the file.
 */
export function writeFilesAtomic(files: readonly OutputFile[]): void {
  const staged: { temp: string; path: string; backup?: string }[] = [];
  const renamed: typeof staged = [];
  let current = '';
  try {
    for (const file of files) {
      current = file.path;
      prepareOutputDir(dirname(file.path), 'output folder');
      const temp = tempBeside(file.path, 'new');
      staged.push({ temp, path: file.path });
      writeFileSync(temp, file.content, { mode: file.mode ?? 0o644, flag: 'wx' });
    }
    for (const s of staged) {
      current = s.path;
      if (existsSync(s.path)) {
        s.backup = tempBeside(s.path, 'old');
        copyFileSync(s.path, s.backup);
      }
    }
    for (const s of staged) {
      current = s.path;
      renameSync(s.temp, s.path);
      renamed.push(s);
    }
  } catch (error) {
    for (const r of renamed) {
      if (r.backup) renameSync(r.backup, r.path);
      else rmSync(r.path, { force: true });
    }
    throw writeFailure(error, current);
  } finally {
    for (const s of staged) {
      rmSync(s.temp, { force: true });
      if (s.backup) rmSync(s.backup, { force: true });
    }
  }
}
