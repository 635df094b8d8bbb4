import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The one way tests start the built CLI (`dist/cli.js`) in a child process. The vitest globalSetup
 * (build-dist.ts) has built dist/ from the current src/ before any test runs. Tests that only need
 * the CLI's behaviour call `cli(args, memoryIO())` in-process instead; this is for what only a real
 * process shows: exit codes set by the process, signals, other users, file modes, start-up.
 */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist', 'cli.js');

/** `nobody` on Debian and most Linux images: root ignores permission bits, so permission cases run as nobody. */
export const UNPRIVILEGED = { uid: 65534, gid: 65534 } as const;

export interface CliResult {
  code: number | null;
  /** When the process exited (Date.now()). */
  exitedAt: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed by the helper after `timeoutMs`: the CLI hung. */
  timedOut: boolean;
}

export interface CliOptions {
  cwd?: string;
  /** Added to process.env (NO_COLOR=1 is always set: tests read plain text). */
  env?: Record<string, string>;
  /** Killed with SIGKILL after this long (default 60 s: a hang guard, not a speed limit). */
  timeoutMs?: number;
  /** Run as this user (only root can); the CLI is loaded from a copy that user can read when needed. */
  user?: { uid: number; gid: number };
  /** Node options before the script, e.g. ['-r', preload]. */
  nodeArgs?: string[];
  /** Another build of the CLI (a copy of the package), instead of this checkout's dist/cli.js. */
  cliPath?: string;
  /** Sees stdout as it arrives. */
  onStdout?: (chunk: string) => void;
  /** Gets the child process (e.g. to send it SIGINT). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Runs the built CLI and resolves with what it printed and how it ended; never rejects. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const script = options.cliPath ?? (options.user ? cliReadableBy(options.user) : CLI);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  });
  options.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    options.onStdout?.(chunk);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 60_000);
  return new Promise((resolve) => {
    let exitedAt = 0;
    child.once('exit', () => (exitedAt = Date.now()));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, exitedAt: exitedAt || Date.now(), signal, stdout, stderr, timedOut });
    });
  });
}

/** The same, synchronously, for quick commands (`--help`, `--version`). */
export function runCliSync(
  args: readonly string[],
  options: Pick<CliOptions, 'cwd' | 'env' | 'timeoutMs' | 'cliPath'> = {},
): CliResult {
  const result = spawnSync(process.execPath, [options.cliPath ?? CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
  });
  return {
    code: result.status,
    exitedAt: Date.now(),
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr,
    timedOut: result.error !== undefined && result.signal === 'SIGTERM',
  };
}

/**
 * Who a permission test runs the CLI as: root ignores permission bits, so as root it is `nobody`
 * (the CLI is loaded from a copy nobody can read when the checkout is private, see cliReadableBy);
 * any other user is refused by the bits as a user would be, so it runs as itself.
 */
export const PERMISSION_USER = process.getuid?.() === 0 ? UNPRIVILEGED : undefined;

/** Why permission tests cannot set up their condition here, or undefined when they can. */
export function whyNoPermissionTests(): string | undefined {
  if (process.platform === 'win32' || !process.getuid) return 'POSIX permission bits are needed (not on Windows)';
  if (!PERMISSION_USER) return undefined;
  const probe = spawnSync(process.execPath, ['-e', '0'], {
    uid: PERMISSION_USER.uid,
    gid: PERMISSION_USER.gid,
    cwd: '/',
  });
  if (probe.status !== 0)
    return `uid ${PERMISSION_USER.uid} (nobody) cannot execute node at ${process.execPath}: ${probe.error?.message ?? probe.stderr.toString().trim()}`;
  if (!canTraverse(PERMISSION_USER, tmpdir()))
    return `uid ${PERMISSION_USER.uid} (nobody) cannot enter the temporary folder ${tmpdir()}, where the test folders are made`;
  return undefined;
}

/** Whether `user` can reach `path`: every folder on the way must let it through. */
export function canTraverse(user: { uid: number; gid: number }, path: string): boolean {
  const probe = spawnSync(
    process.execPath,
    ['-e', 'require("fs").accessSync(process.argv[1], require("fs").constants.R_OK)', path],
    { uid: user.uid, gid: user.gid, cwd: '/' },
  );
  return probe.status === 0;
}

const readableCopies = new Map<string, string>();

/**
 * A dist/cli.js that `user` can load. When the checkout sits in a folder only its owner may enter
 * (a `mktemp -d` folder, /root), the unprivileged user cannot load this checkout's CLI at all; then
 * the package as it would be installed (dist/, templates/, src/sandbox/, package.json and the
 * production dependencies) is copied to a folder under the system temp folder, once per test file.
 */
export function cliReadableBy(user: { uid: number; gid: number }): string {
  if (canTraverse(user, CLI) && canTraverse(user, join(ROOT, 'node_modules', 'yargs', 'package.json'))) return CLI;
  const key = `${user.uid}:${user.gid}`;
  const known = readableCopies.get(key);
  if (known && existsSync(known)) return known;
  const copy = mkdtempSync(join(tmpdir(), 'wxpay-notify-cli-copy-'));
  chmodSync(copy, 0o755);
  copyPackage(copy, 'copy');
  process.once('exit', () => rmSync(copy, { recursive: true, force: true }));
  const cli = join(copy, 'dist', 'cli.js');
  readableCopies.set(key, cli);
  return cli;
}

/**
 * Copies the package as it would be installed into `dest` (an existing folder): package.json,
 * dist/, templates/, src/sandbox/, and its production dependencies: `link` points node_modules at
 * this checkout's (same user, quick); `copy` gives the copy files of its own, hard links where the
 * file system allows (another user must be able to reach every file). Returns the copy's dist/cli.js.
 */
export function copyPackage(dest: string, dependencies: 'link' | 'copy'): string {
  const parts = ['package.json', 'dist', 'templates', join('src', 'sandbox')];
  for (const part of dependencies === 'copy' ? [...parts, ...productionPackages()] : parts) {
    mkdirSync(dirname(join(dest, part)), { recursive: true });
    const linked = dependencies === 'copy' && spawnSync('cp', ['-al', join(ROOT, part), join(dest, part)]).status === 0;
    if (!linked) cpSync(join(ROOT, part), join(dest, part), { recursive: true, dereference: true });
  }
  if (dependencies === 'link') symlinkSync(join(ROOT, 'node_modules'), join(dest, 'node_modules'), 'junction');
  // mkdirSync honours the umask; the folders on the way must let other users through.
  for (const folder of [join(dest, 'src'), join(dest, 'node_modules')])
    if (dependencies === 'copy' && existsSync(folder)) chmodSync(folder, 0o755);
  return join(dest, 'dist', 'cli.js');
}

/** node_modules/<name> of every production dependency, direct or not (each top-level folder once). */
function productionPackages(): string[] {
  const listed = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' }).stdout;
  const top = new Set<string>();
  for (const line of listed.split('\n')) {
    if (!line) continue;
    const rel = relative(realpathSync(ROOT), line).split(sep);
    if (rel[0] !== 'node_modules') continue;
    top.add(join(...rel.slice(0, rel[1]?.startsWith('@') ? 3 : 2)));
  }
  // npm not on PATH: copy every installed package (slower, same result).
  return top.size > 0 ? [...top] : ['node_modules'];
}
