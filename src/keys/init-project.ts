import { existsSync } from 'node:fs';
import { chmod, lstat, readFile, rmdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CONFIG_FILE_NAMES } from '../config/config-file-name.js';
import { UserError } from '../shared/errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { checkOutputDir, fsProblem, prepareOutputDir } from '../output/output-dir.js';
import { writeFilesAtomic } from '../output/write-atomic.js';
import { generateTestKeys, type TestKeys } from './generate-keys.js';
import { INIT_FILES, KEYS_DIR, planInitFiles, renderInitSummary } from './init-files.js';
import { TRUST_KIT_DIR } from './trust-kit.js';
import type { KeyMode } from './key-mode.js';

/**
 * `wxpay-notify init` (the I/O edge): generate TEST keys and write the example config, the secrets,
 * the private keys and the trust kit into a folder. Close to all or nothing: every target is checked
 * before anything is written, then all files are written as one commit (writeFilesAtomic), so no
 * reader ever sees a half-written key or config.
 */

export interface InitProjectOptions {
  dir: string;
  /** Replace files that already exist. */
  force?: boolean;
  /** Fixes the certificate validity; defaults to the current time. */
  now?: Date;
  /** Use these keys instead of generating new ones (tests). */
  keys?: TestKeys;
  /** Which verification keys the merchant's test server uses (default both). */
  keyMode?: KeyMode;
}

export interface InitProjectResult {
  /** Absolute paths of every file written, the .gitignore included when it was changed. */
  files: string[];
  /** Human-readable report; names files but never prints a secret. */
  summary: string;
}

/** A refusal caused by the user's folder, not a bug: a usage error (exit 2) naming the paths in the way. */
export class InitConflictError extends UserError {
  constructor(
    message: string,
    readonly paths: string[],
  ) {
    super(message, 'E_INIT_CONFLICT');
    this.name = 'InitConflictError';
  }
}

const SECRET_FILE_MODE = 0o600;
const PUBLIC_FILE_MODE = 0o644;
const KEYS_DIR_MODE = 0o700;
const MAX_GITIGNORE_BYTES = 1024 * 1024;

export async function initProject(options: InitProjectOptions): Promise<InitProjectResult> {
  const dir = resolve(options.dir);
  const keys = options.keys ?? generateTestKeys(options.now ?? new Date());
  const keyMode = options.keyMode ?? 'both';
  const planned = Object.entries(planInitFiles(keys, keyMode, schemaPathFrom(dir))).map(([rel, file]) => ({
    path: join(dir, ...rel.split('/')),
    content: file.content,
    mode: file.secret ? SECRET_FILE_MODE : PUBLIC_FILE_MODE,
  }));

  checkOutputDir(options.dir, '--dir');
  // A config under the other name counts as in the way too: two configs in one folder would leave
  // the user guessing which one runs.
  const otherConfigs = CONFIG_FILE_NAMES.filter((name) => name !== INIT_FILES.config).map((name) => join(dir, name));
  await checkTargets(dir, [...planned.map((p) => p.path), ...otherConfigs], options.force ?? false);
  const createdDirs: string[] = [];
  try {
    createdDirs.push(...prepareOutputDir(dir, '--dir'));
    createdDirs.push(...prepareOutputDir(join(dir, KEYS_DIR), '--dir', KEYS_DIR_MODE));
    await ownerOnly(join(dir, KEYS_DIR));
    createdDirs.push(...prepareOutputDir(join(dir, TRUST_KIT_DIR), '--dir'));
    writeFilesAtomic(planned);
  } catch (error) {
    for (const created of createdDirs.reverse()) await rmdir(created).catch(() => undefined);
    throw error;
  }

  const files = planned.map((p) => p.path);
  let gitignore: { file: string; added: string[] } | undefined;
  let gitignoreProblem: string | undefined;
  const repoRoot = findGitRoot(dir);
  if (repoRoot) {
    try {
      gitignore = await ignoreInGit(repoRoot, [join(dir, KEYS_DIR), join(dir, TRUST_KIT_DIR)]);
      if (gitignore.added.length > 0) files.push(gitignore.file);
    } catch (error) {
      gitignoreProblem = error instanceof Error ? error.message : String(error);
    }
  }

  const summary = renderInitSummary({
    dir,
    secretsPathForShell: shellPath(join(dir, ...INIT_FILES.secrets.split('/'))),
    configPathForShell: shellPath(join(dir, INIT_FILES.config)),
    keyMode,
    keyId: keys.publicKey.keyId,
    serial: keys.certificate.serial,
    ...(gitignore ? { gitignore } : {}),
    ...(gitignoreProblem ? { gitignoreProblem } : {}),
  });
  return { files, summary };
}

/**
 * The config's `$schema`: this package's schema.json, relative to the folder init writes into, so an
 * editor finds it where the package is installed (`../node_modules/wxpay-notify/src/config/schema.json`
 * from an `init --dir wxpay-test` folder of a project).
 */
function schemaPathFrom(dir: string): string {
  const path = relative(dir, join(PACKAGE_ROOT, 'src', 'config', 'schema.json'))
    .split(sep)
    .join('/');
  return path.startsWith('.') || isAbsolute(path) ? path : `./${path}`;
}

/** Refuse before writing anything: existing files need --force; a non-file in the way always fails. */
async function checkTargets(dir: string, targets: string[], force: boolean): Promise<void> {
  const existing: string[] = [];
  const blocked: string[] = [];
  for (const target of targets) {
    for (let parent = dirname(target); parent.startsWith(dir) && parent !== dir; parent = dirname(parent)) {
      const info = await lstat(parent).catch(() => undefined);
      if (info && !info.isDirectory()) blocked.push(relative(dir, parent));
    }
    const info = await lstat(target).catch(() => undefined);
    if (!info) continue;
    // A link is in the way even with --force: writing through it would change a file elsewhere.
    if (info.isFile()) existing.push(relative(dir, target));
    else blocked.push(relative(dir, target));
  }
  if (blocked.length > 0) {
    const list = [...new Set(blocked)];
    throw new InitConflictError(
      `cannot write into ${dir}: ${list.join(', ')} ${list.length === 1 ? 'is' : 'are'} in the way (not a regular file); move it and run init again`,
      list.map((p) => join(dir, p)),
    );
  }
  if (existing.length > 0 && !force) {
    throw new InitConflictError(
      `init would overwrite ${existing.join(', ')} in ${dir}; nothing was written. Run again with --force to replace ${existing.length === 1 ? 'it' : 'them'} (new keys: the merchant's test server must then trust the new trust kit)`,
      existing.map((p) => join(dir, p)),
    );
  }
}

/**
 * keys/ is 0700 after every init, also when it already existed with wider permissions: the secrets
 * written into it must not be readable by others even for a moment longer.
 */
async function ownerOnly(keysDir: string): Promise<void> {
  try {
    await chmod(keysDir, KEYS_DIR_MODE);
  } catch (error) {
    throw new UserError(
      `cannot make ${keysDir} private (mode 0700): ${fsProblem(error)}; fix its owner or permissions, or choose another --dir`,
      'E_OUTPUT',
    );
  }
}

/** The nearest folder at or above `start` holding `.git` (a folder, or a file for worktrees). */
export function findGitRoot(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Append anchored entries (`/path/keys/`) for `paths` to the repo's .gitignore unless present. */
async function ignoreInGit(repoRoot: string, paths: string[]): Promise<{ file: string; added: string[] }> {
  const file = join(repoRoot, '.gitignore');
  // A .gitignore that is a link (to /dev/zero, to a file elsewhere) or huge is not edited: the
  // summary says so and the user adds the lines.
  const info = await lstat(file).catch(() => undefined);
  if (info && (!info.isFile() || info.size > MAX_GITIGNORE_BYTES))
    throw new Error(`${file} is ${info.isFile() ? 'larger than 1 MB' : 'not a regular file (a link?)'}; not changed`);
  const current = info ? await readFile(file, 'utf8') : '';
  const present = new Set(current.split(/\r?\n/).map((line) => line.trim().replace(/^\/+|\/+$/g, '')));
  const added = paths
    .map((p) => relative(repoRoot, p).split(sep).join('/'))
    .filter((rel) => !present.has(rel))
    .map((rel) => `/${rel}/`);
  if (added.length === 0) return { file, added };
  const separator = current === '' || current.endsWith('\n') ? '' : '\n';
  const block = `${current === '' ? '' : '\n'}# wxpay-notify TEST keys and trust kit: never commit\n${added.join('\n')}\n`;
  const mode = (await stat(file).catch(() => undefined))?.mode ?? PUBLIC_FILE_MODE;
  writeFilesAtomic([{ path: file, content: current + separator + block, mode: mode & 0o777 }]);
  return { file, added };
}

/** The secrets file as a POSIX shell word usable from the current folder (`.` needs a slash). */
function shellPath(path: string): string {
  const rel = relative(process.cwd(), path);
  const word = rel === '' || isAbsolute(rel) || rel.startsWith('..') ? path : `./${rel.split(sep).join('/')}`;
  return /^[\w./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
