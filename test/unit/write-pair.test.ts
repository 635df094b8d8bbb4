import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hasInterruptedCommit, LOCK_WAIT_MS, writeFilesAtomic } from '../../src/output/write-atomic.js';

/**
 * The collection and its environment are one pair: whatever happens while they are written (two
 * writers at once, a kill between the two renames, Ctrl-C), the folder must not be left holding one
 * writer's collection beside another's environment, or a new collection beside the old environment.
 *
 * The writers are child processes (test/fixtures/pair-writer.mjs) whose renames are slowed down in
 * the child itself, so the moment between a pair's two renames is wide enough to hit every time.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WRITER = join(ROOT, 'test/fixtures/pair-writer.mjs');
const COLLECTION = 'shop.postman_collection.json';
const ENVIRONMENT = 'shop.postman_environment.json';
const dirs: string[] = [];

const children = new Set<import('node:child_process').ChildProcess>();

afterAll(() => {
  // A failed trial ends its test before the other trials signal their writers, and a writer with
  // rounds 0 writes until killed: none may outlive the file.
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-pair-'));
  dirs.push(dir);
  return dir;
}

const mark = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8').split('\n')[0]!;
const pairOf = (dir: string) => ({ collection: mark(dir, COLLECTION), environment: mark(dir, ENVIRONMENT) });

function writer(
  dir: string,
  label: string,
  options: { rounds: number; startAt?: number; every?: number; slowRenameMs: number },
) {
  const when =
    options.startAt === undefined ? [] : [String(options.startAt), ...(options.every ? [String(options.every)] : [])];
  const child = spawn(process.execPath, [WRITER, dir, label, String(options.rounds), ...when], {
    env: { ...process.env, SLOW_RENAME_MS: String(options.slowRenameMs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, output })),
  );
  return { child, done };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the collection/environment pair stays consistent', () => {
  it("two writers at once: the pair on disk is always one writer's", async () => {
    const ROUNDS = 6;
    const dir = tmp();
    for (let round = 1; round <= ROUNDS; round++) mkdirSync(join(dir, `round-${round}`));
    // In each round (its own folder), B renames slowly and starts first; A starts inside B's commit.
    // Without a lock A's pair lands between B's two renames: A's collection beside B's environment.
    // One process per writer for all rounds; a round every 600 ms leaves B's commit (2 × 120 ms) done.
    const startAt = Date.now() + 1_200;
    const b = writer(dir, 'B', { rounds: ROUNDS, startAt, every: 600, slowRenameMs: 120 });
    const a = writer(dir, 'A', { rounds: ROUNDS, startAt: startAt + 40, every: 600, slowRenameMs: 1 });
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.output).toBe(0);
    expect(rb.code, rb.output).toBe(0);
    for (let round = 1; round <= ROUNDS; round++) {
      const folder = join(dir, `round-${round}`);
      const pair = pairOf(folder);
      expect(pair.environment, `round ${round}`).toBe(pair.collection);
      expect([`A-${round}`, `B-${round}`], `round ${round}`).toContain(pair.collection);
      expect(readdirSync(folder).sort()).toEqual([COLLECTION, ENVIRONMENT]);
    }
  }, 60_000);

  it('a writer killed (SIGKILL) between the renames: the folder says so, and the next write completes the pair', async () => {
    let interrupted = 0;
    const trial = async (n: number): Promise<void> => {
      const dir = tmp();
      const w = writer(dir, 'K', { rounds: 0, slowRenameMs: 40 });
      // Let it commit a few pairs, then kill it somewhere in a commit.
      while (!existsSync(join(dir, ENVIRONMENT))) await sleep(10);
      await sleep(100 + Math.random() * 150);
      w.child.kill('SIGKILL');
      await w.done;
      const pair = pairOf(dir);
      if (hasInterruptedCommit(dir)) interrupted++;
      else
        expect(pair.environment, `trial ${n}: mixed pair and no record of an interrupted commit`).toBe(pair.collection);
      // The next write into the folder, whatever it writes, first finishes the interrupted commit.
      writeFilesAtomic([{ path: join(dir, 'other.txt'), content: 'x' }]);
      const repaired = pairOf(dir);
      expect(repaired.environment, `trial ${n}`).toBe(repaired.collection);
      expect(hasInterruptedCommit(dir)).toBe(false);
      expect(readdirSync(dir).sort()).toEqual(['other.txt', COLLECTION, ENVIRONMENT]);
    };
    // Four writers at a time, each in its own folder: the kills are what is tested, not the waits.
    for (let batch = 0; batch < 4; batch++) await Promise.all([0, 1, 2, 3].map((i) => trial(batch * 4 + i)));
    // Each kill lands between two renames about half the time: the repair was exercised.
    expect(interrupted).toBeGreaterThan(0);
  }, 90_000);

  it('Ctrl-C or SIGTERM during a commit waits for the commit, then ends the writer', async () => {
    // Four writers at a time, each in its own folder. A signal can land anywhere, also while the lock
    // is being taken (its temp exists then): signals are held from before the lock, so none is left.
    const trial = async (signal: NodeJS.Signals): Promise<void> => {
      const dir = tmp();
      const w = writer(dir, 'S', { rounds: 0, slowRenameMs: 40 });
      while (!existsSync(join(dir, ENVIRONMENT))) await sleep(10);
      await sleep(50 + Math.random() * 100);
      w.child.kill(signal);
      const result = await w.done;
      expect(result.signal).toBe(signal);
      expect(hasInterruptedCommit(dir)).toBe(false);
      const pair = pairOf(dir);
      expect(pair.environment).toBe(pair.collection);
      expect(readdirSync(dir).sort()).toEqual([COLLECTION, ENVIRONMENT]);
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) await Promise.all([0, 1, 2, 3].map(() => trial(signal)));
  }, 180_000); // eight writer processes: a hang guard for a loaded machine
});

describe('the folder lock', () => {
  const files = (dir: string, mark: string) => [
    { path: join(dir, COLLECTION), content: `${mark}\n` },
    { path: join(dir, ENVIRONMENT), content: `${mark}\n` },
  ];

  it('a writer waits while another holds the lock, then writes', async () => {
    const dir = tmp();
    writeFileSync(join(dir, '.wxpay-notify.lock'), `${process.pid} ${hostname()}\n`);
    const started = Date.now();
    const w = writer(dir, 'W', { rounds: 1, slowRenameMs: 1 });
    setTimeout(() => rmSync(join(dir, '.wxpay-notify.lock')), 700);
    const result = await w.done;
    expect(result.code, result.output).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(pairOf(dir)).toEqual({ collection: 'W-1', environment: 'W-1' });
  }, 30_000);

  it('a lock left by a process that is gone, or one older than any commit, is taken over at once', () => {
    for (const lock of ['999999999 ' + hostname(), `${process.pid} another-host`]) {
      const dir = tmp();
      const path = join(dir, '.wxpay-notify.lock');
      writeFileSync(path, `${lock}\n`);
      if (lock.endsWith('another-host')) utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      const started = Date.now();
      writeFilesAtomic(files(dir, 'N'));
      // Not after the lock wait (15 s) a live lock would cost.
      expect(Date.now() - started).toBeLessThan(LOCK_WAIT_MS);
      expect(pairOf(dir)).toEqual({ collection: 'N', environment: 'N' });
      expect(existsSync(path)).toBe(false);
    }
  });
});

describe('generate --check and an interrupted write', () => {
  it('reports the folder as stale until the next generate completes it', async () => {
    const { initProject } = await import('../../src/keys/init-project.js');
    const { testKeys } = await import('../support/suite-fixture.js');
    const { cli } = await import('../../src/cli.js');
    const { memoryIO } = await import('../../src/shared/command-io.js');
    const dir = tmp();
    await initProject({ dir, keys: testKeys() });
    const config = join(dir, 'wxpay-notify.jsonc');
    const out = join(dir, 'collections');
    const env = { WXPAY_V2_API_KEY: 'a'.repeat(32), WXPAY_V3_API_KEY: 'b'.repeat(32) };
    Object.assign(process.env, env);
    expect(await cli(['generate', '-c', config, '-o', out, '--no-secrets'], memoryIO())).toBe(0);
    expect(await cli(['generate', '-c', config, '-o', out, '--no-secrets', '--check'], memoryIO())).toBe(0);
    // What a writer killed between its renames leaves behind (its temps already renamed).
    writeFileSync(
      join(out, '.wxpay-notify.commit'),
      JSON.stringify({
        version: 2,
        files: [{ temp: '.shop.postman_collection.json.new.0123abcd.tmp', path: 'shop.postman_collection.json' }],
      }),
    );
    const check = memoryIO();
    expect(await cli(['generate', '-c', config, '-o', out, '--no-secrets', '--check'], check)).toBe(1);
    expect(check.stderr).toMatch(/interrupted/);
    expect(await cli(['generate', '-c', config, '-o', out, '--no-secrets'], memoryIO())).toBe(0);
    expect(await cli(['generate', '-c', config, '-o', out, '--no-secrets', '--check'], memoryIO())).toBe(0);
  }, 30_000);
});
