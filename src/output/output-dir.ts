import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../shared/errors.js';

/**
 * Output folders chosen by the user (`generate -o`, `run --reporter-dir`, `init --dir`): checked and
 * created here so that every way they can be wrong ends as one line naming the path (exit 2), never
 * as a stack trace. Missing levels are created one at a time: Node's recursive mkdir never returns
 * under /proc, where mkdir answers ENOENT for a parent that exists.
 */

/** What an fs error code means, in words a user can act on. */
export function fsProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is exhausted';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'EEXIST':
      return 'something that is not a folder is in the way';
    case 'EISDIR':
      return 'a folder is in the way';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENOENT':
      return 'the file system does not allow creating it';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

/** True for errors of the file system (an errno code), as opposed to bugs. */
export function isFsError(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return (
    typeof code === 'string' && /^E[A-Z]+$/.test(code) && typeof (error as NodeJS.ErrnoException).syscall === 'string'
  );
}

/**
 * Checks, without creating anything, that `dir` is a folder this process can write into or can be
 * created: the nearest existing level must be a folder with write permission. `label` names the
 * option, e.g. `--reporter-dir`. Returns the missing levels, outermost first. Throws a UserError
 * naming the path and the reason.
 */
export function checkOutputDir(dir: string, label: string): string[] {
  const missing: string[] = [];
  let existing = resolve(dir);
  for (;;) {
    let info;
    try {
      info = statSync(existing);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: a file further up; walk up to it and name it.
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(existing) !== existing) {
        missing.unshift(existing);
        existing = dirname(existing);
        continue;
      }
      throw refusal(dir, label, existing, fsProblem(error));
    }
    if (!info.isDirectory()) throw refusal(dir, label, existing, 'it is a file, not a folder');
    break;
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw refusal(dir, label, existing, fsProblem(error));
  }
  return missing;
}

/**
 * checkOutputDir, then creates the missing levels one at a time (with `mode`, when given). Returns
 * the folders it created, outermost first.
 */
export function prepareOutputDir(dir: string, label: string, mode?: number): string[] {
  const missing = checkOutputDir(dir, label);
  const created: string[] = [];
  for (const level of missing) {
    try {
      mkdirSync(level, mode === undefined ? undefined : { mode });
      created.push(level);
    } catch (error) {
      if (
        (error as NodeJS.ErrnoException).code === 'EEXIST' &&
        statSync(level, { throwIfNoEntry: false })?.isDirectory()
      )
        continue;
      throw refusal(dir, label, level, fsProblem(error));
    }
  }
  return created;
}

function refusal(dir: string, label: string, path: string, reason: string): UserError {
  return new UserError(`${label} ${dir}: cannot write into ${path} (${reason}); choose another folder`, 'E_OUTPUT');
}

/** An fs error while writing `path`, as a UserError (other errors are bugs and pass unchanged). */
export function writeFailure(error: unknown, path: string): unknown {
  if (!isFsError(error)) return error;
  return new UserError(`cannot write ${path}: ${fsProblem(error)}`, 'E_OUTPUT');
}
