import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../../src/cli.js';
import { memoryIO } from '../../src/shared/command-io.js';

/** A user's day one, through the CLI: init, serve, generate, run, regenerate after a change. */
function readSecrets(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^\w+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('CLI workflow: init → serve → generate → run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-cli-'));
  const config = join(dir, 'wxpay-notify.jsonc');
  let stopServe: () => void;
  let served: Promise<number>;
  const outputs: string[] = [];
  let secrets: string[] = [];

  beforeAll(async () => {
    const init = memoryIO();
    expect(await cli(['init', '--dir', dir], init)).toBe(0);
    outputs.push(init.stdout, init.stderr);
    const env = readSecrets(join(dir, 'keys/secrets.env'));
    Object.assign(process.env, env);
    secrets = [
      ...Object.values(env),
      ...['wechatpay-test-public-key-private.pem', 'wechatpay-test-cert-private.pem'].flatMap((f) =>
        readFileSync(join(dir, 'keys', f), 'utf8')
          .split('\n')
          .filter((l) => l.length >= 40),
      ),
    ];
    // serve on an ephemeral port, then point the config's URLs at it (serve routes by path).
    const serveIO = memoryIO();
    served = cli(['serve', '-c', config, '--port', '0'], serveIO).then((code) => {
      outputs.push(serveIO.stdout, serveIO.stderr);
      return code;
    });
    for (let i = 0; i < 100 && !/listening on (http:\/\/127\.0\.0\.1:\d+)/.test(serveIO.stdout); i++)
      await new Promise((r) => setTimeout(r, 50));
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(serveIO.stdout)![1]!;
    writeFileSync(config, readFileSync(config, 'utf8').replaceAll('http://127.0.0.1:8080', url));
    // serve stops on Ctrl-C, as a user would stop it.
    stopServe = () => process.emit('SIGINT');
  }, 60_000);

  afterAll(async () => {
    stopServe?.();
    expect(await served).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('init wrote the config, keys (0600 in a 0700 folder) and the trust kit, and printed no secret', () => {
    expect(existsSync(config)).toBe(true);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'keys/wechatpay-test-cert-private.pem')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'trust-kit')).sort()).toEqual([
      'README.md',
      'wechatpay-test-platform-cert.pem',
      'wechatpay-test-public-key.pem',
    ]);
  });

  it('generate writes deterministic files; --check passes, then names the stale file after a config change', async () => {
    const out = join(dir, 'collections');
    const first = memoryIO();
    expect(await cli(['generate', '-c', config, '-o', out], first)).toBe(0);
    outputs.push(first.stdout, first.stderr);
    const collection = join(out, 'my-shop.postman_collection.json');
    const environment = join(out, 'my-shop.postman_environment.json');
    expect(statSync(environment).mode & 0o777).toBe(0o600);
    const before = readFileSync(collection, 'utf8');
    expect(await cli(['generate', '-c', config, '-o', out], memoryIO())).toBe(0);
    expect(readFileSync(collection, 'utf8')).toBe(before);
    expect(await cli(['generate', '-c', config, '-o', out, '--check'], memoryIO())).toBe(0);

    writeFileSync(config, readFileSync(config, 'utf8').replace('"total": 100', '"total": 250'));
    const check = memoryIO();
    expect(await cli(['generate', '-c', config, '-o', out, '--check'], check)).toBe(1);
    expect(check.stderr).toContain('stale: ');
    expect(check.stderr).toContain('my-shop.postman_collection.json');
    expect(check.stderr).not.toContain('my-shop.postman_environment.json');
    expect(await cli(['generate', '-c', config, '-o', out], memoryIO())).toBe(0);
    // A config change gives a small diff: the amount and the refund (which defaults to it), nothing else.
    const after = readFileSync(collection, 'utf8').split('\n');
    const changed = after.filter((line, i) => line !== before.split('\n')[i]);
    expect(after).toHaveLength(before.split('\n').length);
    expect(changed).toEqual(['      "value": "250",', '      "value": "250",']);

    const noSecrets = memoryIO();
    expect(await cli(['generate', '-c', config, '-o', out, '--no-secrets'], noSecrets)).toBe(0);
    const env = JSON.parse(readFileSync(environment, 'utf8'));
    expect(env.values.filter((v: any) => v.type === 'secret').every((v: any) => v.value === '')).toBe(true);
  }, 30_000);

  it('run passes every case against serve, prints the table, writes JUnit and JSON reports', async () => {
    const io = memoryIO();
    const reports = join(dir, 'reports');
    expect(await cli(['run', '-c', config, '--reporters', 'junit,json,html', '--reporter-dir', reports], io)).toBe(0);
    outputs.push(io.stdout, io.stderr);
    expect(io.stdout).toMatch(/^case\s+severity\s+HTTP\s+time\s+verdict\s+hint$/m);
    expect(io.stdout).toMatch(/^v3\.forged\.signtest-probe\s+security\s+401\s+\d+ ms\s+PASS$/m);
    expect(io.stdout).toMatch(/^(\d+) passed, 0 failed$/m);
    const junit = readFileSync(join(reports, 'my-shop.junit.xml'), 'utf8');
    const results = JSON.parse(readFileSync(join(reports, 'my-shop.results.json'), 'utf8'));
    expect(results.totals.failed).toBe(0);
    expect(junit.match(/<testcase /g)).toHaveLength(results.cases.length);
    expect(junit).not.toContain('<failure');
    const html = readFileSync(join(reports, 'my-shop.report.html'), 'utf8');
    expect(html).toContain('<!DOCTYPE html>');
    expect(html).toContain('v3.forged.signtest-probe');
    outputs.push(junit, JSON.stringify(results), html);
  }, 60_000);

  it('run --only filters by glob; --format json is machine-readable; a failing case exits 1', async () => {
    const io = memoryIO();
    expect(await cli(['run', '-c', config, '--only', 'v2.refund.*', '--format', 'json'], io)).toBe(0);
    expect(JSON.parse(io.stdout).cases.map((c: any) => c.caseId)).toEqual([
      'v2.refund.success',
      'v2.refund.change',
      'v2.refund.closed',
      'v2.refund.block-aligned',
    ]);
    const severity = memoryIO();
    expect(await cli(['run', '-c', config, '--min-severity', 'security', '--format', 'json'], severity)).toBe(0);
    // The genuine controls come back in, so each forged case can be judged against its twin.
    const bySeverity = JSON.parse(severity.stdout);
    expect(bySeverity.addedControls.map((c: any) => c.id).sort()).toEqual([
      'v2.pay.success',
      'v2.refund.success',
      'v3.pay.success',
    ]);
    expect(
      bySeverity.cases
        .filter((c: any) => c.severity !== 'security')
        .map((c: any) => c.caseId)
        .sort(),
    ).toEqual(['v2.pay.success', 'v2.refund.success', 'v3.pay.success']);

    // Point v3 at a path the receiver does not serve: the payment case fails with the 404 hint.
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, readFileSync(config, 'utf8').replace('/wxpay/v3/notify"', '/wxpay/v3//notify"'));
    const failing = memoryIO();
    expect(await cli(['run', '-c', broken, '--only', 'v3.pay.success'], failing)).toBe(1);
    expect(failing.stdout).toMatch(/v3\.pay\.success\s+protocol\s+404 .*FAIL.*doubled slash/);
    expect(failing.stdout).toMatch(/^0 passed, 1 failed$/m);
    outputs.push(io.stdout, failing.stdout, failing.stderr);
  }, 60_000);

  it('bad usage exits 2 with a one-line reason', async () => {
    const unknown = memoryIO();
    expect(await cli(['frobnicate'], unknown)).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown argument|Unknown command/i);
    const flag = memoryIO();
    expect(await cli(['run', '-c', config, '--no-such-flag'], flag)).toBe(2);
    const only = memoryIO();
    expect(await cli(['run', '-c', config, '--only', 'v9.*'], only)).toBe(2);
    expect(only.stderr).toContain('matches no case; cases for this config: v2.pay.success');
    const missing = memoryIO();
    expect(await cli(['run', '-c', join(dir, 'nope.json')], missing)).toBe(2);
    expect(missing.stderr).toContain('config file not found');
    outputs.push(unknown.stderr, flag.stderr, only.stderr, missing.stderr);
  });

  it('no secret appears in any output or report', () => {
    expect(secrets.length).toBeGreaterThan(10);
    const all = outputs.join('\n');
    for (const secret of secrets) expect(all.includes(secret), 'a secret leaked').toBe(false);
    const collection = readFileSync(join(dir, 'collections/my-shop.postman_collection.json'), 'utf8');
    for (const secret of secrets) expect(collection.includes(secret)).toBe(false);
  });
});

describe('the example collection in collections/', () => {
  it('equals a fresh generate of the example config, byte for byte', async () => {
    process.env.WXPAY_V2_API_KEY ??= '0'.repeat(32);
    process.env.WXPAY_V3_API_KEY ??= '0'.repeat(32);
    const io = memoryIO();
    const code = await cli(
      ['generate', '-c', 'collections/example.wxpay-notify.jsonc', '-o', 'collections', '--no-secrets', '--check'],
      io,
    );
    expect(io.stderr).toBe('');
    expect(code).toBe(0);
  });
});
