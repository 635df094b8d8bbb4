import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../shared/errors.js';
import { inert } from '../shared/inert-text.js';
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
 *
 * The folder is not trusted (a cloned repository, a shared CI workspace): the writer touches only
 * paths inside the commit's folder, through real folders, never through a symbolic link, and a
 * journal it finds is obeyed only when every entry names a file wxpay-notify itself writes there
 * (KNOWN_OUTPUT) and a temp of ours beside it; anything else is refused with one line and nothing is
 * moved. Node has no openat/renameat, so the checks are made just before each step: a local
 * attacker racing a swap between check and rename is out of reach (docs/security.md says so).
 */

const LOCK = '.wxpay-notify.lock';
const JOURNAL = '.wxpay-notify.commit';
/** How long to wait for another writer; a commit takes milliseconds. */
export const LOCK_WAIT_MS = 15_000;
/** A lock this old is left over from a writer that died (a commit takes milliseconds). */
const LOCK_STALE_MS = 30_000;
/** A lock with no holder in it: never written by this version (see takeLock), stale after a moment. */
const EMPTY_LOCK_STALE_MS = 1_000;
/** A lock holds "<pid> <host>\n"; a journal a few hundred bytes per file. Anything larger is not ours. */
const LOCK_MAX_BYTES = 512;
const JOURNAL_MAX_BYTES = 1024 * 1024;
const TEMP = /^\..+\.(?:new|old|commit)\.[0-9a-f]{8}\.tmp$/;
/** Opens never follow a symbolic link in the last component (O_NOFOLLOW: ELOOP instead). */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * Every file wxpay-notify writes, as its path relative to the commit's folder (`/`-separated):
 * generate (Postman, Bruno, Artillery), run's and load's reports, init, demo, and init's line in
 * .gitignore. Only these may
 * be named by a journal; test/adversarial/output-folder.test.ts keeps this list equal to what the
 * writers write.
 */
export const KNOWN_OUTPUT: readonly RegExp[] = [
  /^[^/]+\.postman_(?:collection|environment)\.json$/,
  /^[^/]+\.bruno_environment\.json$/,
  /^[^/]+\.bruno\/bruno\.json$/,
  /^[^/]+\.bruno\/(?:[^/]+\/)*[^/]+\.bru$/,
  /^[^/]+\.artillery(?:\.yml|-processor\.cjs|\.env)$/,
  /^[^/]+\.(?:junit\.xml|results\.json|report\.html|load\.json|load\.html)$/,
  /^wxpay-notify\.jsonc?$/,
  /^keys\/(?:secrets\.env|wechatpay-test-public-key-private\.pem|wechatpay-test-cert-private\.pem)$/,
  /^trust-kit\/(?:wechatpay-test-public-key\.pem|wechatpay-test-platform-cert\.pem|README\.md)$/,
  /^\.gitignore$/,
];

const tempBeside = (path: string, tag: string): string =>
  join(dirname(path), `.${basename(path)}.${tag}.${randomBytes(4).toString('hex')}.tmp`);

interface JournalEntry {
  temp: string;
  path: string;
}

export function writeFilesAtomic(files: readonly OutputFile[]): void {
  if (files.length === 0) return;
  const targets = files.map((f) => ({ ...f, path: resolve(f.path) }));
  const home = commonFolder(targets.map((f) => dirname(f.path)));
  prepareOutputDir(home, 'output folder');
  // Before creating a folder under home: a link planted there must not lead a mkdir elsewhere.
  for (const f of targets) checkOnTheWay(home, f.path);
  for (const dir of new Set(targets.map((f) => dirname(f.path)))) prepareOutputDir(dir, 'output folder');
  withFolderLock(home, () => {
    completeInterruptedCommit(home, new Set(targets.map((f) => dirname(f.path))));
    commit(targets, home);
  });
}

/**
 * Whether a writer was killed in the middle of a commit into `dir` (its files may not match):
 * false without a journal, true with one of ours. A journal wxpay-notify did not write is refused
 * (UserError), never reported as "stale".
 */
export function hasInterruptedCommit(dir: string): boolean {
  const home = resolve(dir);
  return readJournal(home) !== undefined;
}

/** The deepest folder holding every one of `dirs`. */
function commonFolder(dirs: readonly string[]): string {
  let common = dirs[0]!;
  for (const dir of dirs)
    while (common !== dirname(common) && relative(common, dir).split(sep)[0] === '..') common = dirname(common);
  return common;
}

function refuse(path: string, why: string): UserError {
  return new UserError(`cannot write ${inert(path)}: ${why}`, 'E_OUTPUT');
}

/**
 * Every level between `home` and `path` that exists is a real folder, and `path`, if it exists, a
 * regular file: never a symbolic link, which would take the write (or a backup's read) elsewhere.
 */
function checkOnTheWay(home: string, path: string): void {
  const levels = relative(home, path).split(sep);
  let at = home;
  for (const [i, level] of levels.entries()) {
    at = join(at, level);
    const info = lstatSync(at, { throwIfNoEntry: false });
    if (!info) return;
    const last = i === levels.length - 1;
    if (info.isSymbolicLink())
      throw refuse(
        path,
        `${inert(at)} is a symbolic link; wxpay-notify writes only real files in real folders under ${inert(home)}: remove the link, or choose another folder`,
      );
    if (!last && !info.isDirectory())
      throw refuse(path, `${inert(at)} is a file, not a folder; move it, or choose another folder`);
    if (last && !info.isFile())
      throw refuse(
        path,
        `${inert(at)} is ${info.isDirectory() ? 'a folder' : 'not a regular file'}; move it, or choose another folder`,
      );
  }
}

function commit(files: readonly OutputFile[], home: string): void {
  const staged: (JournalEntry & { backup?: string })[] = [];
  const renamed: typeof staged = [];
  const journal = join(home, JOURNAL);
  let current = '';
  try {
    for (const file of files) {
      current = file.path;
      checkOnTheWay(home, file.path);
      const temp = tempBeside(file.path, 'new');
      staged.push({ temp, path: file.path });
      stage(temp, file);
    }
    for (const s of staged) {
      current = s.path;
      checkOnTheWay(home, s.path);
      if (lstatSync(s.path, { throwIfNoEntry: false })) {
        s.backup = tempBeside(s.path, 'old');
        backUp(s.path, s.backup);
      }
    }
    current = journal;
    const journalTemp = tempBeside(journal, 'commit');
    writeNew(
      journalTemp,
      JSON.stringify({
        version: 2,
        files: staged.map(({ temp, path }) => ({
          temp: toPosix(relative(home, temp)),
          path: toPosix(relative(home, path)),
        })),
      }),
      0o644,
    );
    renameSync(journalTemp, journal);
    for (const s of staged) {
      current = s.path;
      checkOnTheWay(home, s.path);
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

const toPosix = (path: string): string => path.split(sep).join('/');

/**
 * The previous version of a file, kept until the commit is done. A hard link: no byte is read, so a
 * file swapped for a link to a secret cannot be copied into the folder. Where the file system has
 * no hard links, a copy read without following a link.
 */
function backUp(path: string, backup: string): void {
  try {
    linkSync(path, backup);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV' && code !== 'EMLINK')
      throw error;
  }
  const fd = openSync(path, constants.O_RDONLY | NOFOLLOW);
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR', syscall: 'open' });
    writeNew(backup, readAll(fd, info.size), info.mode & 0o777);
  } finally {
    closeSync(fd);
  }
}

function readAll(fd: number, size: number): Buffer {
  const buffer = Buffer.alloc(size);
  let at = 0;
  while (at < size) {
    const n = readSync(fd, buffer, at, size - at, at);
    if (n === 0) break;
    at += n;
  }
  return buffer.subarray(0, at);
}

/** A new file: O_EXCL (never an existing file or a link planted at the name), the mode set exactly. */
function writeNew(path: string, content: string | Buffer, mode: number): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, mode);
  try {
    fchmodSync(fd, mode);
    writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A file's content in its temp, on disk before the renames (a crash after them must not leave an
 * empty key or config). A mode that was asked for is set exactly: the umask may have narrowed it.
 */
function stage(temp: string, file: OutputFile): void {
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, file.mode ?? 0o644);
  try {
    if (file.mode !== undefined) fchmodSync(fd, file.mode);
    writeSync(fd, Buffer.from(file.content));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads at most `limit` bytes of a regular file, never through a link; undefined when it is gone. */
function readSmallFile(path: string, limit: number, what: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | NOFOLLOW | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw notOurs(path, what, 'it is a symbolic link');
    throw writeFailure(error, path);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw notOurs(path, what, `it is ${kindOf(info)}`);
    if (info.size > limit)
      throw notOurs(path, what, `it is ${info.size} bytes, more than wxpay-notify ever writes there (${limit})`);
    return readAll(fd, info.size).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isSymbolicLink()) return 'a symbolic link';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function notOurs(path: string, what: string, why: string): UserError {
  return new UserError(
    `${inert(path)} is not a ${what} wxpay-notify wrote (${why}); nothing was written or moved: look at it, delete it, and run again`,
    'E_OUTPUT_FOREIGN',
  );
}

/**
 * The journal of a commit whose writer died, every entry checked (see the module comment), or
 * undefined when there is none. Paths are relative to `home`.
 */
function readJournal(home: string): JournalEntry[] | undefined {
  const journal = join(home, JOURNAL);
  const text = readSmallFile(journal, JOURNAL_MAX_BYTES, 'commit journal');
  if (text === undefined) return undefined;
  const foreign = (why: string): UserError => notOurs(journal, 'commit journal', why);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw foreign('it is not JSON');
  }
  const files = (parsed as { version?: unknown; files?: unknown } | null)?.files;
  if ((parsed as { version?: unknown } | null)?.version !== 2 || !Array.isArray(files))
    throw foreign('it is not in the form wxpay-notify writes');
  return files.map((entry: unknown) => {
    const { temp, path } = (entry ?? {}) as { temp?: unknown; path?: unknown };
    if (typeof path !== 'string' || typeof temp !== 'string') throw foreign('an entry is not a pair of file names');
    const why = entryProblem(home, temp, path);
    if (why) throw foreign(`it names ${JSON.stringify(inert(path.slice(0, 200)))}: ${why}`);
    return { temp, path };
  });
}

/** Why a journal entry is not one of ours, or undefined when it is. */
function entryProblem(home: string, temp: string, path: string): string | undefined {
  const parts = path.split('/');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.includes('\\') || path.includes('\0'))
    return 'an absolute or non-portable path';
  if (parts.some((p) => p === '' || p === '.' || p === '..'))
    return 'a path that leaves the folder or is not normal (.., //)';
  if (!KNOWN_OUTPUT.some((form) => form.test(path))) return 'not a file wxpay-notify writes';
  const name = parts[parts.length - 1]!;
  const tempParts = temp.split('/');
  const tempName = tempParts.pop()!;
  if (
    tempParts.join('/') !== parts.slice(0, -1).join('/') ||
    !tempName.startsWith(`.${name}.new.`) ||
    !/^\.new\.[0-9a-f]{8}\.tmp$/.test(tempName.slice(name.length + 1))
  )
    return 'its temp file is not the one wxpay-notify stages beside it';
  let at = home;
  for (const level of parts.slice(0, -1)) {
    at = join(at, level);
    const info = lstatSync(at, { throwIfNoEntry: false });
    if (!info?.isDirectory()) return `${inert(level)} on the way is ${info ? kindOf(info) : 'missing'}`;
  }
  const target = lstatSync(join(at, name), { throwIfNoEntry: false });
  if (target && !target.isFile()) return `it is ${kindOf(target)}`;
  const staged = lstatSync(join(at, tempName), { throwIfNoEntry: false });
  if (staged && !staged.isFile()) return `its temp file is ${kindOf(staged)}`;
  return undefined;
}

/**
 * Finishes the renames of a commit whose writer died (the temps it names are complete), then tidies
 * up. Every entry is checked before the first rename: a journal with one foreign entry moves nothing.
 */
function completeInterruptedCommit(home: string, dirs: ReadonlySet<string>): void {
  const entries = readJournal(home);
  if (entries) {
    for (const { temp, path } of entries) {
      const from = join(home, ...temp.split('/'));
      if (lstatSync(from, { throwIfNoEntry: false })?.isFile()) renameSync(from, join(home, ...path.split('/')));
    }
    rmSync(join(home, JOURNAL), { force: true });
  }
  // Temps and backups of writers that died (we hold the lock: no live writer owns any). A link or
  // a folder with such a name is not ours: unlink removes a link itself, a folder is left alone.
  for (const dir of new Set([home, ...dirs])) {
    for (const name of readdirSync(dir)) {
      if (!TEMP.test(name)) continue;
      const info = lstatSync(join(dir, name), { throwIfNoEntry: false });
      if (info && !info.isDirectory()) unlinkSync(join(dir, name));
    }
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number): void => void Atomics.wait(pause, 0, 0, ms);

/**
 * Runs `work` holding the folder's lock file, with Ctrl-C and SIGTERM held from before the lock is
 * taken until the work is done: a signal while the lock's temp exists (takeLock) would otherwise leave
 * that temp in the user's folder. Every way of waiting is bounded by LOCK_WAIT_MS, so a signal held
 * while another writer has the lock takes effect when the wait ends. A lock that is not a small regular
 * file (a folder, a link, a device) is not one of ours and ends the wait at once, naming its path.
 */
function withFolderLock(dir: string, work: () => void): void {
  const lock = join(dir, LOCK);
  const deadline = Date.now() + LOCK_WAIT_MS;
  const release = holdSignals();
  try {
    for (;;) {
      try {
        takeLock(lock);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ELOOP') throw notOurs(lock, 'lock file', 'it is a symbolic link');
        if (code !== 'EEXIST') throw writeFailure(error, lock);
      }
      const state = lockState(lock);
      const freed = state === 'gone' || (state === 'stale' && removeStale(lock));
      if (Date.now() > deadline) throw lockedOut(dir, lock, typeof state === 'object' ? state.holder : '?');
      if (!freed) sleep(25);
    }
    try {
      work();
    } finally {
      rmSync(lock, { force: true });
    }
  } finally {
    release();
  }
}

/**
 * Creates the lock with its holder already in it: the pid is written to a temp of ours, which is then
 * linked to the lock's name (EEXIST when a lock, or anything else, is there). A writer killed at any
 * instant leaves either no lock or one naming its pid, never an empty one nobody can judge.
 */
function takeLock(lock: string): void {
  const temp = tempBeside(lock, 'new');
  writeNew(temp, `${process.pid} ${hostname()}\n`, 0o644);
  try {
    linkSync(temp, lock);
  } catch (error) {
    // Our temp was written a moment ago: it is gone because the lock's holder, tidying the temps of
    // writers that died, took it for one. The lock is held: wait for it, as for EEXIST.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw Object.assign(new Error('lock held'), { code: 'EEXIST' });
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

function lockedOut(dir: string, lock: string, holder: string): UserError {
  return new UserError(
    `another wxpay-notify (process ${inert(holder)}) is writing into ${inert(dir)}; wait for it to finish, or delete ${inert(lock)} if that process is gone`,
    'E_OUTPUT_LOCKED',
  );
}

/**
 * What is at the lock's path: gone (released meanwhile), a lock whose writer died (stale), or one
 * whose writer may still be working. Anything but a small regular file is refused (UserError).
 */
function lockState(lock: string): 'gone' | 'stale' | { holder: string } {
  const info = lstatSync(lock, { throwIfNoEntry: false });
  if (!info) return 'gone';
  if (!info.isFile()) throw notOurs(lock, 'lock file', `it is ${kindOf(info)}`);
  const text = readSmallFile(lock, LOCK_MAX_BYTES, 'lock file');
  if (text === undefined) return 'gone';
  const [pid = '?', host] = text.trim().split(' ');
  const dead = host === hostname() && Number(pid) > 0 && !processRuns(Number(pid));
  // An empty lock was left by a version that created it before writing its pid, and died between.
  if (text.trim() === '' && Date.now() - info.mtimeMs >= EMPTY_LOCK_STALE_MS) return 'stale';
  if (dead || Date.now() - info.mtimeMs >= LOCK_STALE_MS) return 'stale';
  return { holder: /^\d+$/.test(pid) ? pid : '?' };
}

/** Removes a lock left by a writer that died; false when it was replaced meanwhile. */
function removeStale(lock: string): boolean {
  const info = lstatSync(lock, { throwIfNoEntry: false });
  if (!info) return true;
  // Move it aside first and check it was the stale one: another waiter may have replaced it.
  const aside = `${lock}.${randomBytes(4).toString('hex')}.stale`;
  try {
    renameSync(lock, aside);
  } catch {
    return true;
  }
  if (lstatSync(aside, { throwIfNoEntry: false })?.ino !== info.ino) {
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
