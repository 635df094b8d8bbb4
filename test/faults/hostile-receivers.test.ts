import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import {
  endlessChunked,
  startHostileServer,
  trickleBody,
  trickleHeaders,
  type HostileServer,
} from '../fixtures/hostile-receivers.js';
import { LOADED_MACHINE_SLACK_MS } from '../support/deadlines.js';
import { runCli, runCliSync } from '../support/run-cli.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * `run` (the built CLI, in a child process) against a receiver that attacks it: headers that trickle
 * in, a body that trickles in, an answer that never ends. Each request must end at its wall-clock
 * deadline or once the answer's bounded prefix is in, the rest must stay unread, and the process must
 * exit as soon as the table is printed. The hostile answers are bounded themselves (a trickle stops
 * after 25 s, the endless answer after 192 MiB), so an unbounded client fails this test instead of
 * hanging it.
 */
/** How long each trickling answer goes on (the hostile server's own bound). */
const TRICKLE_MS = 25_000;
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
  tableAt: number;
  exitedAt: number;
}

/** Runs the built CLI; notes when the totals line appeared and when the process exited. */
async function runWatched(args: string[], cwd: string, env: Record<string, string>): Promise<CliRun> {
  let seen = '';
  let tableAt = 0;
  const result = await runCli(args, {
    cwd,
    env,
    timeoutMs: 120_000,
    onStdout: (chunk) => {
      seen += chunk;
      if (!tableAt && /^\d+ passed, \d+ failed/m.test(seen)) tableAt = Date.now();
    },
  });
  return { code: result.code, stdout: result.stdout, stderr: result.stderr, tableAt, exitedAt: result.exitedAt };
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
    await initProject({ dir, keys: testKeys() });
    secrets = readSecrets(join(dir, 'keys/secrets.env'));
    original.text = readFileSync(configFile, 'utf8');

    // Baseline: the same cases against the reference receiver pass (the hostile verdicts are the receiver's doing).
    const config = await loadConfig(configFile, { ...process.env, ...secrets });
    const reference = await startReceiver(receiverOptionsFromConfig(config), { host: '127.0.0.1', port: 0 });
    writeFileSync(configFile, original.text.replaceAll('http://127.0.0.1:8080', reference.url));
    baselineRun = await runWatched(['run', '-c', configFile, '--only', ONLY], dir, secrets);
    await reference.close();

    hostile = await startHostileServer({
      '/wxpay/v2/notify': trickleHeaders(200, TRICKLE_MS),
      '/wxpay/v2/refund-notify': endlessChunked(ENDLESS_BYTES),
      '/wxpay/v3/notify': trickleBody(200, TRICKLE_MS),
    });
    writeFileSync(configFile, original.text.replaceAll('http://127.0.0.1:8080', hostile.url));
    hostileRun = await runWatched(
      ['run', '-c', configFile, '--only', ONLY, '--reporters', 'json', '--reporter-dir', join(dir, 'reports')],
      dir,
      secrets,
    );
  }, 150_000);

  afterAll(async () => {
    await hostile?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the baseline run passes (the comparison is meaningful)', () => {
    expect(baselineRun.code, baselineRun.stdout + baselineRun.stderr).toBe(0);
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
      expect(lasted, path).toBeLessThan(REQUEST_DEADLINE_MS + LOADED_MACHINE_SLACK_MS); // the trickle goes on for 25 s
    }
  });

  it('an endless answer: the client keeps a bounded prefix, hangs up early and judges it', () => {
    const sent = hostile.sent.get('/wxpay/v2/refund-notify')!;
    // The kernel's socket buffers hold a few MB in flight; everything past that was never read, so
    // never held in memory (peak memory itself is measured by `npm run bench`, not asserted here).
    expect(sent).toBeLessThan(32 * 1024 * 1024);
    const report = JSON.parse(readFileSync(join(dir, 'reports/my-shop.results.json'), 'utf8')) as {
      deliveries: {
        caseId: string;
        status?: number;
        verdict: string;
        hint: string;
        response?: { body: string; truncatedAtBytes?: number };
      }[];
    };
    const refund = report.deliveries.find((d) => d.caseId === 'v2.refund.success')!;
    expect(refund.status).toBe(200);
    expect(refund.verdict).toBe('fail'); // the prefix is no complete XML acknowledgement
    expect(Buffer.byteLength(refund.response!.body)).toBeLessThanOrEqual(ANSWER_LIMIT_BYTES);
    expect(refund.response!.body.startsWith('<xml><return_code>SUCCESS</return_code><pad>AAAA')).toBe(true);
    expect(refund.response!.truncatedAtBytes).toBe(ANSWER_LIMIT_BYTES);
    expect(refund.hint).toContain(`longer than ${ANSWER_LIMIT_BYTES} bytes`);
  });

  it('`run --help` states the bounds', () => {
    const help = runCliSync(['run', '--help'], { env: { COLUMNS: '200' } }).stdout.replace(/\s+/g, ' ');
    expect(help).toContain(
      `wall-clock deadline of ${REQUEST_DEADLINE_MS / 1000} s for its whole answer (headers and body)`,
    );
    expect(help).toContain(`first ${ANSWER_LIMIT_BYTES / 1024} KiB of an answer's body`);
    expect(help).toMatch(/whole run is bounded at \d+ s per delivery plus \d+ s/);
  });

  it('the process exits right after the table: no socket or timer keeps it alive', () => {
    expect(hostileRun.tableAt).toBeGreaterThan(0);
    // A socket or timer left behind would hold the process until the hostile answers end.
    const trickleEnds = Math.min(
      ...['/wxpay/v2/notify', '/wxpay/v3/notify'].map((path) => hostile.arrivedAt.get(path)! + TRICKLE_MS),
    );
    expect(hostileRun.exitedAt).toBeLessThan(trickleEnds);
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
    hostile = await startHostileServer({ '/wxpay/v3/notify': trickleBody(100, TRICKLE_MS) });
    const config = demoConfig(testKeys(), hostile.url, dir);
    const started = Date.now();
    const run = await runCollection({
      collection: buildCollection(config, selectCases(config, { only: ['v3.pay.success'] })),
      environment: buildEnvironment(config, true),
      // A per-request deadline longer than the run: only the run's bound can end this one.
      timeoutRequestMs: 30_000,
      // Long enough for the request to be sent (and trickling) on a loaded machine, far short of the trickle.
      timeoutMs: 8_000,
    });
    const returnedAt = Date.now();
    expect(run.aborted).toBe(true);
    expect(run.deliveries.map((d) => [d.caseId, d.verdict, d.cause])).toEqual([['v3.pay.success', 'fail', 'timeout']]);
    expect(returnedAt - started).toBeLessThan(8_000 + LOADED_MACHINE_SLACK_MS); // the trickle goes on for 25 s
    // The run's end must have closed its connection, not the trickle's (25 s after it began).
    const trickleEnds = hostile.arrivedAt.get('/wxpay/v3/notify')! + TRICKLE_MS;
    while (!hostile.closedAt.has('/wxpay/v3/notify') && Date.now() < trickleEnds)
      await new Promise((r) => setTimeout(r, 50));
    expect(
      hostile.closedAt.get('/wxpay/v3/notify'),
      'the connection is still open after the run returned',
    ).toBeDefined();
    expect(hostile.closedAt.get('/wxpay/v3/notify')!).toBeLessThan(trickleEnds - 1_000);
  }, 60_000);
});
