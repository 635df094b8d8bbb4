import { closeSync, copyFileSync, existsSync, fchmodSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../config/errors.js';
import { prepareOutputDir, writeFailure } from './output-dir.js';

export interface OutputFile {
  path: string;
  content: string;
  /** 0o600 for files holding secrets. */
  mode?: number;
}

/**
 * Files that belong together (a collection and its environment, a set of reports, what init
 * writes) are written as one commit, so a reader never finds one file of a set beside another set's:
 *
 * - a lock file in the folder lets one writer at a time commit (two `generate` at once would
 *   otherwise interleave their renames: A's collection beside B's environment);
 * - every file is staged in a temp file first; then a journal naming each temp and its target is
 *   written, the temps are renamed into place, and the journal is removed. A process killed
 *   between two renames leaves the journal: the next writer into the folder finishes those renames
 *   first, and `generate --check` reports the folder as stale until then;
 * - Ctrl-C or SIGTERM during the commit is held until the commit is done.
 *
 * A failure (not a kill) part-way puts the previous files back and leaves no temp file behind. A
 * file-system failure (no permission, a full disk) is thrown as a UserError naming the file.
 */

const LOCK = '.wxpay-notify.lock';
const JOURNAL = '.wxpay-notify.commit';
/** How long to wait for another writer; a commit takes milliseconds. */
export const LOCK_WAIT_MS = 15_000;
/** A lock this old is left over from a writer that died (a commit takes milliseconds). */
const LOCK_STALE_MS = 30_000;
const TEMP = /^\..+\.(?:new|old|commit)\.[0-9a-f]{8}\.tmp$/;

const tempBeside = (path: string, tag: string): string => join(dirname(path), `.${basename(path)}.${tag}.${randomBytes(4).toString('hex')}.tmp`);

interface JournalEntry {
  temp: string;
  path: string;
}

export function writeFilesAtomic(files: readonly OutputFile[]): void {
  if (files.length === 0) return;
  for (const dir of new Set(files.map((f) => dirname(resolve(f.path))))) prepareOutputDir(dir, 'output folder');
  const home = dirname(resolve(files[0]!.path));
  withFolderLock(home, () => {
    completeInterruptedCommit(home);
    commit(
      files.map((f) => ({ ...f, path: resolve(f.path) })),
      home,
    );
  });
}

/** True when a writer was killed in the middle of a commit into `dir` (its files may not match). */
export function hasInterruptedCommit(dir: string): boolean {
  return existsSync(join(resolve(dir), JOURNAL));
}

function commit(files: readonly OutputFile[], home: string): void {
  const staged: (JournalEntry & { backup?: string })[] = [];
  const renamed: typeof staged = [];
  const journal = join(home, JOURNAL);
  let current = '';
  try {
    for (const file of files) {
      current = file.path;
      const temp = tempBeside(file.path, 'new');
      staged.push({ temp, path: file.path });
      stage(temp, file);
    }
    for (const s of staged) {
      current = s.path;
      if (existsSync(s.path)) {
        s.backup = tempBeside(s.path, 'old');
        copyFileSync(s.path, s.backup);
      }
    }
    current = journal;
    const journalTemp = tempBeside(journal, 'commit');
    writeFileSync(journalTemp, JSON.stringify(staged.map(({ temp, path }) => ({ temp, path }))), { flag: 'wx' });
    renameSync(journalTemp, journal);
    for (const s of staged) {
      current = s.path;
      renameSync(s.temp, s.path);
      renamed.push(s);
    }
    rmSync(journal, { force: true });
  } catch (error) {
    for (const r of renamed) {
      if (r.backup) renameSync(r.backup, r.path);
      else rmSync(r.path, { force: true });
    }
    rmSync(journal, { force: true });
    throw writeFailure(error, current);
  } finally {
    for (const s of staged) {
      rmSync(s.temp, { force: true });
      if (s.backup) rmSync(s.backup, { force: true });
    }
  }
}

/**
 * A file's content in its temp, on disk before the renames (a crash after them must not leave an
 * empty key or config). A mode that was asked for is set exactly: the umask may have narrowed it.
 */
function stage(temp: string, file: OutputFile): void {
  const fd = openSync(temp, 'wx', file.mode ?? 0o644);
  try {
    if (file.mode !== undefined) fchmodSync(fd, file.mode);
    writeFileSync(fd, file.content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Finishes the renames of a commit whose writer died (the temps it names are complete), then tidies up. */
function completeInterruptedCommit(home: string): void {
  const journal = join(home, JOURNAL);
  if (existsSync(journal)) {
    let entries: JournalEntry[] = [];
    try {
      entries = JSON.parse(readFileSync(journal, 'utf8')) as JournalEntry[];
    } catch {
      // A journal is renamed into place whole; an unreadable one is not ours: leave the files.
    }
    for (const { temp, path } of entries) {
      if (typeof temp === 'string' && typeof path === 'string' && existsSync(temp)) renameSync(temp, path);
    }
    rmSync(journal, { force: true });
  }
  // Temps and backups of writers that died (we hold the lock: no live writer owns any).
  for (const name of readdirSync(home)) if (TEMP.test(name)) rmSync(join(home, name), { force: true });
}

const pause = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number): void => void Atomics.wait(pause, 0, 0, ms);

/** Runs `work` holding the folder's lock file, with Ctrl-C and SIGTERM held until it is done. */
function withFolderLock(dir: string, work: () => void): void {
  const lock = join(dir, LOCK);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(lock, `${process.pid} ${hostname()}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailure(error, lock);
    }
    if (removeIfStale(lock)) continue;
    if (Date.now() > deadline) {
      const holder = (readFileSync(lock, { encoding: 'utf8', flag: 'r' }).trim().split(' ')[0] ?? '?') || '?';
      throw new UserError(`another wxpay-notify (process ${holder}) is writing into ${dir}; wait for it to finish, or delete ${lock} if that process is gone`, 'E_OUTPUT_LOCKED');
    }
    sleep(25);
  }
  const release = holdSignals();
  try {
    work();
  } finally {
    rmSync(lock, { force: true });
    release();
  }
}

/** Removes a lock left by a writer that died; false when its writer may still be working. */
function removeIfStale(lock: string): boolean {
  let info;
  let text;
  try {
    info = statSync(lock);
    text = readFileSync(lock, 'utf8');
  } catch {
    return true; // released meanwhile: try again
  }
  const [pid, host] = text.trim().split(' ');
  const dead = host === hostname() && Number(pid) > 0 && !processRuns(Number(pid));
  if (!dead && Date.now() - info.mtimeMs < LOCK_STALE_MS) return false;
  // Move it aside first and check it was the stale one: another waiter may have replaced it.
  const aside = `${lock}.${randomBytes(4).toString('hex')}.stale`;
  try {
    renameSync(lock, aside);
  } catch {
    return true;
  }
  if (statSync(aside).ino !== info.ino) {
    try {
      renameSync(aside, lock); // a fresh lock: give it back (it holds only a pid)
    } catch {
      // nothing to restore onto
    }
    return false;
  }
  rmSync(aside, { force: true });
  return true;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const HELD_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * While a JavaScript listener exists, Node delivers these signals between tasks instead of ending
 * the process at once: the synchronous commit completes. Afterwards a held signal takes effect,
 * unless the process has listeners of its own (the CLI stops a run on Ctrl-C and prints its results).
 */
function holdSignals(): () => void {
  const held: NodeJS.Signals[] = [];
  const others = new Map(HELD_SIGNALS.map((s) => [s, process.listenerCount(s)]));
  const hold = (signal: NodeJS.Signals): void => void held.push(signal);
  for (const s of HELD_SIGNALS) process.on(s, hold);
  // Released a turn later: a signal that came during the commit is dispatched only then, and with
  // no listener left it would be dropped.
  return () =>
    void setImmediate(() => {
      for (const s of HELD_SIGNALS) process.off(s, hold);
      const first = held[0];
      if (first && others.get(first as (typeof HELD_SIGNALS)[number]) === 0) process.kill(process.pid, first);
    });
}
