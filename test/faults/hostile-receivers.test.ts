import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { demoConfig } from '../../src/commands/demo.js';
import { loadConfig } from '../../src/config/load-config.js';
import { initProject } from '../../src/keys/init-project.js';
import { receiverOptionsFromConfig } from '../../src/receiver/from-config.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import { ANSWER_LIMIT_BYTES, REQUEST_DEADLINE_MS } from '../../src/shared/limits.js';
import { runCollection } from '../../src/runner/run-collection.js';
import { endlessChunked, startHostileServer, trickleBody, trickleHeaders, type HostileServer } from '../fixtures/hostile-receivers.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * `run` (the built CLI, in a child process) against a receiver that attacks it: headers that trickle
 * in, a body that trickles in, an answer that never ends. Each request must end at its wall-clock
 * deadline or once the answer's bounded prefix is in, memory must stay flat, and the process must
 * exit as soon as the table is printed. The hostile answers are bounded themselves (a trickle stops
 * after 25 s, the endless answer after 192 MiB), so an unbounded client fails this test instead of
 * hanging it.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist/cli.js');
const PEAK_RSS = join(ROOT, 'test/support/report-peak-rss.cjs');
const ONLY = 'v2.pay.success,v2.refund.success,v3.pay.success';
const ENDLESS_BYTES = 192 * 1024 * 1024;

function readSecrets(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^\w+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  startedAt: number;
  tableAt: number;
  exitedAt: number;
  peakRssKb: number;
}

/** Runs the built CLI; notes when the totals line appeared and when the process exited. */
function runCli(args: string[], cwd: string, env: Record<string, string>): Promise<CliRun> {
  const startedAt = Date.now();
  const child = spawn(process.execPath, ['-r', PEAK_RSS, CLI, ...args], { cwd, env: { ...process.env, ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let tableAt = 0;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (!tableAt && /^\d+ passed, \d+ failed/m.test(stdout)) tableAt = Date.now();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => {
    child.once('close', (code) => {
      const peak = /peak-rss-kb=(\d+)/.exec(stderr);
      resolve({ code, stdout, stderr, startedAt, tableAt, exitedAt: Date.now(), peakRssKb: peak ? Number(peak[1]) : NaN });
    });
  });
}

describe('run against hostile receivers (built CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-hostile-'));
  const configFile = join(dir, 'wxpay-notify.jsonc');
  const original = { text: '' };
  let secrets: Record<string, string>;
  let hostile: HostileServer;
  let hostileRun: CliRun;
  let baselineRun: CliRun;

  beforeAll(async () => {
    if (!existsSync(CLI)) execFileSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'ignore' });
    await initProject({ dir, keys: testKeys() });
    secrets = readSecrets(join(dir, 'keys/secrets.env'));
    original.text = readFileSync(configFile, 'utf8');

    // Baseline: the same cases against the reference receiver, for the memory comparison.
    const config = await loadConfig(configFile, { ...process.env, ...secrets });
    const reference = await startReceiver(receiverOptionsFromConfig(config), { host: '127.0.0.1', port: 0 });
    writeFileSync(configFile, original.text.replaceAll('http://127.0.0.1:8080', reference.url));
    baselineRun = await runCli(['run', '-c', configFile, '--only', ONLY], dir, secrets);
    await reference.close();

    hostile = await startHostileServer({
      '/wxpay/v2/notify': trickleHeaders(200, 25_000),
      '/wxpay/v2/refund-notify': endlessChunked(ENDLESS_BYTES),
      '/wxpay/v3/notify': trickleBody(200, 25_000),
    });
    writeFileSync(configFile, original.text.replaceAll('http://127.0.0.1:8080', hostile.url));
    hostileRun = await runCli(['run', '-c', configFile, '--only', ONLY, '--reporters', 'json', '--reporter-dir', join(dir, 'reports')], dir, secrets);
  }, 150_000);

  afterAll(async () => {
    await hostile?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the baseline run passes (the comparison is meaningful)', () => {
    expect(baselineRun.code, baselineRun.stdout + baselineRun.stderr).toBe(0);
    expect(baselineRun.peakRssKb).toBeGreaterThan(0);
  });

  it('prints a verdict for every case and exits 1, without a stack trace', () => {
    const { stdout, stderr, code } = hostileRun;
    expect(code, stdout + stderr).toBe(1);
    expect(stdout).toMatch(/^v2\.pay\.success\s+protocol\s+no answer\s+-\s+FAIL\s+.*(deadline|timed? ?out)/im);
    expect(stdout).toMatch(/^v3\.pay\.success\s+protocol\s+no answer\s+-\s+FAIL\s+.*(deadline|timed? ?out)/im);
    expect(stdout).toMatch(/^v2\.refund\.success\s+protocol\s+200\s/m);
    expect(stdout + stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(stdout + stderr).not.toMatch(/internal error|ERR_STRING_TOO_LONG/);
  });

  it('trickled headers and a trickled body each end at the wall-clock deadline, not when the trickle stops', () => {
    for (const path of ['/wxpay/v2/notify', '/wxpay/v3/notify']) {
      const lasted = hostile.closedAt.get(path)! - hostile.arrivedAt.get(path)!;
      expect(lasted, path).toBeGreaterThanOrEqual(REQUEST_DEADLINE_MS - 1_000);
      expect(lasted, path).toBeLessThan(REQUEST_DEADLINE_MS + 2_000);
    }
  });

  it('an endless answer: the client keeps a bounded prefix, hangs up early and judges it', () => {
    const sent = hostile.sent.get('/wxpay/v2/refund-notify')!;
    // The kernel's socket buffers hold a few MB in flight; everything past that was never read.
    expect(sent).toBeLessThan(32 * 1024 * 1024);
    const report = JSON.parse(readFileSync(join(dir, 'reports/my-shop.results.json'), 'utf8')) as {
      deliveries: { caseId: string; status?: number; verdict: string; hint: string; response?: { body: string; truncatedAtBytes?: number } }[];
    };
    const refund = report.deliveries.find((d) => d.caseId === 'v2.refund.success')!;
    expect(refund.status).toBe(200);
    expect(refund.verdict).toBe('fail'); // the prefix is no complete XML acknowledgement
    expect(Buffer.byteLength(refund.response!.body)).toBeLessThanOrEqual(ANSWER_LIMIT_BYTES);
    expect(refund.response!.body.startsWith('<xml><return_code>SUCCESS</return_code><pad>AAAA')).toBe(true);
    expect(refund.response!.truncatedAtBytes).toBe(ANSWER_LIMIT_BYTES);
    expect(refund.hint).toContain(`longer than ${ANSWER_LIMIT_BYTES} bytes`);
  });

  it('memory stays flat: peak RSS within 64 MB of the same run against the reference receiver', () => {
    expect(hostileRun.peakRssKb).toBeGreaterThan(0);
    expect((hostileRun.peakRssKb - baselineRun.peakRssKb) / 1024).toBeLessThan(64);
  });

  it('`run --help` states the bounds', () => {
    const help = execFileSync(process.execPath, [CLI, 'run', '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '200' } }).replace(/\s+/g, ' ');
    expect(help).toContain(`wall-clock deadline of ${REQUEST_DEADLINE_MS / 1000} s for its whole answer (headers and body)`);
    expect(help).toContain(`first ${ANSWER_LIMIT_BYTES / 1024} KiB of an answer's body`);
    expect(help).toMatch(/whole run is bounded at \d+ s per delivery plus \d+ s/);
  });

  it('the process exits right after the table: no socket or timer keeps it alive', () => {
    expect(hostileRun.tableAt).toBeGreaterThan(0);
    expect(hostileRun.exitedAt - hostileRun.tableAt).toBeLessThan(2_000);
  });
});

describe('the whole-run bound against a trickling receiver (in process)', () => {
  let hostile: HostileServer | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-bound-'));
  afterAll(async () => {
    await hostile?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the run runs out of time, it returns at once and closes the request still in flight', async () => {
    hostile = await startHostileServer({ '/wxpay/v3/notify': trickleBody(100, 20_000) });
    const config = demoConfig(testKeys(), hostile.url, dir);
    const started = Date.now();
    const run = await runCollection({
      collection: buildCollection(config, selectCases(config, { only: ['v3.pay.success'] })),
      environment: buildEnvironment(config, true),
      // A per-request deadline longer than the run: only the run's bound can end this one.
      timeoutRequestMs: 30_000,
      timeoutMs: 2_000,
    });
    const returnedAt = Date.now();
    expect(run.aborted).toBe(true);
    expect(run.deliveries.map((d) => [d.caseId, d.verdict, d.cause])).toEqual([['v3.pay.success', 'fail', 'timeout']]);
    expect(returnedAt - started).toBeLessThan(6_000);
    // The trickle would go on for 20 s; the run's end must have closed its connection.
    for (let i = 0; i < 40 && !hostile.closedAt.has('/wxpay/v3/notify'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(hostile.closedAt.get('/wxpay/v3/notify'), 'the connection is still open after the run returned').toBeDefined();
    expect(hostile.closedAt.get('/wxpay/v3/notify')! - returnedAt).toBeLessThan(1_000);
  }, 30_000);
});
