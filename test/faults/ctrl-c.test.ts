import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectCases } from '../../src/cases/select-cases.js';
import { loadConfig } from '../../src/config/load-config.js';
import { initProject } from '../../src/keys/init-project.js';
import { receiverOptionsFromConfig } from '../../src/receiver/from-config.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import type { StartedReceiver } from '../../src/receiver/types.js';
import { REQUEST_DEADLINE_MS } from '../../src/shared/limits.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * Ctrl-C during `run`: the built CLI, against a receiver that answers the first deliveries and then
 * hangs, gets SIGINT once those answers are in. It must stop at once with exit code 130, say it was
 * interrupted and print the table of the cases done so far, with no stack trace.
 */
/** Deliveries answered before the receiver starts hanging. */
const ANSWERED = 3;

function readSecrets(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => /^\w+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Ctrl-C during run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-ctrl-c-'));
  const configFile = join(dir, 'wxpay-notify.jsonc');
  let secrets: Record<string, string>;
  let receiver: StartedReceiver | undefined;
  let child: ChildProcess | undefined;
  let arrived = 0;
  let expectedDone: string[] = [];
  let inFlight = '';

  beforeAll(async () => {
    // What `wxpay-notify init` writes (with this file's test keys), then aimed at our receiver.
    await initProject({ dir, keys: testKeys() });
    secrets = readSecrets(join(dir, 'keys/secrets.env'));
    const config = await loadConfig(configFile, { ...process.env, ...secrets });
    receiver = await startReceiver(receiverOptionsFromConfig(config), {
      host: '127.0.0.1',
      port: 0,
      // The reference answer for the first deliveries; after that, hang until the client goes away.
      hook: async (request, next) => {
        if (++arrived <= ANSWERED) return next();
        await new Promise<void>((resolve) =>
          request.socket.destroyed ? resolve() : request.socket.once('close', () => resolve()),
        );
        return null;
      },
    });
    const text = readFileSync(configFile, 'utf8');
    expect(text).toContain('http://127.0.0.1:8080/');
    writeFileSync(configFile, text.replaceAll('http://127.0.0.1:8080', receiver.url));
    const ids = selectCases(config).map((c) => c.id);
    expectedDone = ids.slice(0, ANSWERED);
    inFlight = ids[ANSWERED]!;
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 130 within a few seconds, says "interrupted", and prints the partial table', async () => {
    const run = runCli(['run', '-c', configFile], {
      cwd: dir,
      env: secrets,
      timeoutMs: 120_000,
      onSpawn: (spawned) => (child = spawned),
    });
    const exited = run.then((r) => ({ code: r.code, signal: r.signal, at: r.exitedAt }));
    let early: CliResult | undefined;
    void run.then((r) => (early = r));

    // Progress lines are printed only on a terminal: watch the receiver instead. Once the delivery
    // after the answered ones has arrived (and hangs), those answers have been judged.
    const deadline = Date.now() + 30_000;
    while (arrived <= ANSWERED && !early && Date.now() < deadline) await sleep(20);
    expect(early, `the CLI exited before it was interrupted:\n${early?.stdout}\n${early?.stderr}`).toBeUndefined();
    expect(arrived).toBe(ANSWERED + 1);

    const interruptedAt = Date.now();
    child!.kill('SIGINT');
    const result = await Promise.race([exited, sleep(10_000).then(() => undefined)]);
    expect(result, 'the CLI did not exit within 10 s of SIGINT').toBeDefined();
    expect(result!.code).toBe(130);
    expect(result!.signal).toBeNull();
    // Had Ctrl-C not dropped the request in flight, the run would have waited for its deadline.
    expect(result!.at - interruptedAt).toBeLessThan(REQUEST_DEADLINE_MS);
    const { stdout, stderr } = await run;

    expect(stderr).toMatch(/interrupted/);
    // The partial table: header, the answered cases (the reference answers pass), the totals line.
    expect(stdout).toMatch(/^case\s+severity\s+HTTP\s+time\s+verdict\s+hint$/m);
    for (const id of expectedDone)
      expect(stdout).toMatch(new RegExp(`^${id.replaceAll('.', '\\.')}\\s+\\w+\\s+\\d{3}\\s+\\d+ ms\\s+PASS`, 'm'));
    expect(stdout).not.toContain(inFlight);
    expect(stdout).toMatch(new RegExp(`^${ANSWERED} passed, 0 failed$`, 'm'));
    // No crash: no stack trace, no internal error, no secret.
    const output = stdout + stderr;
    expect(output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(output).not.toMatch(/internal error|Unhandled|UnhandledPromiseRejection/i);
    for (const secret of Object.values(secrets)) expect(output).not.toContain(secret);
  }, 60_000);
});
