/**
 * doctor and lint-url against real sockets — every server here listens on 127.0.0.1, port 0, and
 * nothing is sent anywhere else. Each server has one realistic fault; the doctor must name it.
 * Private keys live in memory and a temp folder only.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor, UserError } from '../../src/shared/errors.js';
import { doctorCommand, lintUrlCommand } from '../../src/commands/doctor.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { classifyProbe, classifyTls } from '../../src/doctor/classify.js';
import { checkReachability, PROBE_USER_AGENT } from '../../src/doctor/reachability.js';
import type { DoctorCheck } from '../../src/doctor/types.js';
import { createSelfSignedCertificate, testCertificateValidity } from '../../src/keys/self-signed-certificate.js';
import { LOADED_MACHINE_SLACK_MS } from '../support/deadlines.js';

const HOST = '127.0.0.1';
const TIMEOUT_MS = 400;
const V3_KEY = 'Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4';

const closers: Array<() => Promise<void>> = [];
const base: Record<string, string> = {};
const seen: Array<{ path: string; userAgent?: string; body: string }> = [];
let privateKeyPem = '';
let tmp = '';
let refusedPort = 0;

function listen(server: net.Server): Promise<number> {
  // Register cleanup as soon as the server exists, so a failed test never leaks it.
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        (server as http.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  return new Promise((resolve) => server.listen(0, HOST, () => resolve((server.address() as net.AddressInfo).port)));
}

function answer(status: number, headers: http.OutgoingHttpHeaders, body = ''): http.RequestListener {
  return (req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => {
      text += c.toString('utf8');
    });
    req.on('end', () => {
      seen.push({ path: req.url ?? '', userAgent: req.headers['user-agent'], body: text });
      res.writeHead(status, headers).end(body);
    });
  };
}

const correct = answer(
  400,
  { 'Content-Type': 'application/json' },
  '{"code":"FAIL","message":"signature verification failed"}',
);

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wxpay-notify-doctor-'));
  privateKeyPem = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  const cert = createSelfSignedCertificate({
    privateKeyPem,
    serial: '01',
    validity: testCertificateValidity(new Date()),
  });

  const servers: Record<string, net.Server> = {
    good: http.createServer(correct),
    login: http.createServer(
      answer(
        200,
        { 'Content-Type': 'text/html; charset=utf-8' },
        '<!DOCTYPE html><html><head><title>Sign in - 统一登录</title></head><body>login</body></html>',
      ),
    ),
    redirect: http.createServer(answer(302, { Location: '/login?next=%2Fwxpay%2Fnotify' })),
    missing: http.createServer(answer(404, { 'Content-Type': 'text/plain' }, 'no route')),
    acks: http.createServer(answer(200, { 'Content-Type': 'application/json' }, '{"code":"SUCCESS"}')),
    hang: http.createServer(() => {
      /* never answers */
    }),
    reset: net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy())),
    tls: https.createServer({ key: privateKeyPem, cert }, correct),
  };
  for (const [name, server] of Object.entries(servers)) {
    const port = await listen(server);
    base[name] = `${name === 'tls' ? 'https' : 'http'}://${HOST}:${port}`;
  }
  const gone = net.createServer();
  refusedPort = await new Promise<number>((resolve) =>
    gone.listen(0, HOST, () => resolve((gone.address() as net.AddressInfo).port)),
  );
  await new Promise<void>((resolve) => gone.close(() => resolve()));
});

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const reach = (url: string, extra: { insecure?: boolean; version?: 'v2' | 'v3' } = {}): Promise<DoctorCheck[]> =>
  checkReachability(
    url,
    { allowPrivate: true, insecure: extra.insecure ?? false, version: extra.version ?? 'v3' },
    { timeoutMs: TIMEOUT_MS },
  );
const step = (checks: DoctorCheck[], rule: string): DoctorCheck | undefined => checks.find((c) => c.rule === rule);
const levels = (checks: DoctorCheck[]): string[] => checks.map((c) => `${c.rule}:${c.level}`);

describe('checkReachability', () => {
  it('passes a handler that rejects junk with 400, and sends one harmless, recognisable probe', async () => {
    seen.length = 0;
    const checks = await reach(`${base.good}/wxpay/v3/notify`);
    expect(levels(checks)).toEqual(['dns:ok', 'tcp:ok', 'probe:ok']);
    expect(step(checks, 'probe')!.message).toContain('answered 400');
    expect(checks.every((c) => typeof c.timeMs === 'number')).toBe(true);
    expect(seen).toEqual([{ path: '/wxpay/v3/notify', userAgent: PROBE_USER_AGENT, body: '{}' }]);
    await reach(`${base.good}/wxpay/v2/notify`, { version: 'v2' });
    expect(seen[1]).toMatchObject({ path: '/wxpay/v2/notify', body: '<xml></xml>' });
  });

  it('names an HTML login page as a WAF or login wall', async () => {
    const probe = step(await reach(`${base.login}/wxpay/notify`), 'probe')!;
    expect(probe).toMatchObject({ level: 'error', cause: 'html-page' });
    expect(probe.message).toContain('"Sign in - 统一登录"');
    expect(probe.message).toContain('WAF');
  });

  it('names a redirect to a login page as a login wall, without following it', async () => {
    const probe = step(await reach(`${base.redirect}/wxpay/notify`), 'probe')!;
    expect(probe).toMatchObject({ level: 'error', cause: 'login-wall' });
    expect(probe.message).toContain('302 (to /login?next=%2Fwxpay%2Fnotify): a login wall');
    // Pointing notify_url at the login page would not help.
    expect(probe.message).not.toContain('use it as notify_url');
  });

  it('names an https redirect and where it goes (the fix is the final address)', () => {
    const probe = classifyProbe(
      { status: 301, location: 'https://pay.example.com/wxpay/notify', body: '', timeMs: 3 },
      { url: 'http://pay.example.com/wxpay/notify' },
    );
    expect(probe).toMatchObject({ level: 'error', cause: 'redirect' });
    expect(probe.message).toContain('301 (redirect to https://pay.example.com/wxpay/notify)');
    expect(probe.message).toContain('If https://pay.example.com/wxpay/notify is the handler, use it as notify_url.');
  });

  it('names a 404 as a path problem', async () => {
    const probe = step(await reach(`${base.missing}//wxpay/notify`), 'probe')!;
    expect(probe).toMatchObject({ level: 'error', cause: 'not-found' });
    expect(probe.message).toContain('doubled slash');
  });

  it('warns when the handler acknowledges junk', async () => {
    const probe = step(await reach(`${base.acks}/wxpay/notify`), 'probe')!;
    expect(probe).toMatchObject({ level: 'warning', cause: 'acked-probe' });
  });

  it('gives up on a handler that never answers, after its timeout', async () => {
    const started = Date.now();
    const probe = step(await reach(`${base.hang}/wxpay/notify`), 'probe')!;
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + LOADED_MACHINE_SLACK_MS); // the handler never answers
    expect(probe).toMatchObject({ level: 'error', cause: 'timeout' });
    expect(probe.timeMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(probe.message).toContain('5 s');
  });

  it('names a reset connection', async () => {
    const checks = await reach(`${base.reset}/wxpay/notify`);
    expect(levels(checks)).toEqual(['dns:ok', 'tcp:ok', 'probe:error']);
    expect(step(checks, 'probe')).toMatchObject({ cause: 'conn-reset' });
  });

  it('names a refused port and skips the steps after it', async () => {
    const checks = await reach(`http://${HOST}:${refusedPort}/wxpay/notify`);
    expect(levels(checks)).toEqual(['dns:ok', 'tcp:error', 'probe:skipped']);
    expect(step(checks, 'tcp')).toMatchObject({ cause: 'conn-refused' });
    expect(step(checks, 'tcp')!.message).toContain('ECONNREFUSED');
  });

  it('fails TLS on a self-signed certificate without --insecure, and skips the probe', async () => {
    const checks = await reach(`${base.tls}/wxpay/notify`);
    expect(levels(checks)).toEqual(['dns:ok', 'tcp:ok', 'tls:error', 'probe:skipped']);
    const tls = step(checks, 'tls')!;
    expect(tls.message).toContain('self-signed/untrusted certificate');
    expect(tls.message).toContain(`not valid for ${HOST}`);
    expect(tls.message).toContain('--insecure');
  });

  it('with --insecure, reports the certificate as a warning and goes on to the probe', async () => {
    const checks = await reach(`${base.tls}/wxpay/notify`, { insecure: true });
    expect(levels(checks)).toEqual(['dns:ok', 'tcp:ok', 'tls:warning', 'probe:ok']);
    expect(step(checks, 'tls')!.message).toContain('self-signed/untrusted certificate');
    expect(step(checks, 'tls')!.message).toContain('accepted because of --insecure');
  });

  it('fails DNS for a .invalid host (RFC 6761: never resolves)', async () => {
    const checks = await checkReachability(
      'https://wxpay-notify-doctor.invalid/wxpay/notify',
      { allowPrivate: true, insecure: false },
      { timeoutMs: 1500 },
    );
    expect(levels(checks)).toEqual(['dns:error', 'tcp:skipped', 'tls:skipped', 'probe:skipped']);
    expect(step(checks, 'dns')!.message).toContain('resolving wxpay-notify-doctor.invalid');
  });

  it('flags a name that resolves to a private address, and sends nothing there without --allow-private', async () => {
    let connects = 0;
    const checks = await checkReachability(
      'https://pay.shop.example/wxpay/notify',
      { allowPrivate: false, insecure: false },
      {
        lookup: async () => [{ address: '10.0.0.7', family: 4 }],
        netConnect: () => {
          connects += 1;
          throw new Error('must not connect');
        },
        timeoutMs: TIMEOUT_MS,
      },
    );
    expect(levels(checks)).toEqual(['dns:error', 'tcp:skipped', 'tls:skipped', 'probe:skipped']);
    expect(step(checks, 'dns')!.message).toContain('--allow-private');
    expect(connects).toBe(0);
  });

  it('skips every network step for a private host without --allow-private', async () => {
    const checks = await checkReachability(`${base.good}/wxpay/notify`, { allowPrivate: false, insecure: false });
    expect(levels(checks)).toEqual(['network:skipped']);
    expect(checks[0]!.message).toContain('add --allow-private');
  });
});

describe('pure verdicts', () => {
  const answer = { contentType: 'text/plain', body: '', timeMs: 3 };
  it('classifies probe answers', () => {
    const at = (status: number, extra = {}, version: 'v2' | 'v3' = 'v3'): string => {
      const c = classifyProbe({ ...answer, status, ...extra }, { url: 'https://a.example/n', version });
      return `${c.level}:${c.cause ?? ''}`;
    };
    expect(at(405)).toBe('error:method-not-allowed');
    expect(at(502)).toBe('error:server-error');
    expect(at(500)).toBe('warning:server-error');
    expect(at(401)).toBe('ok:');
    expect(at(403, { contentType: 'text/html', body: '<html>blocked</html>' })).toBe('error:html-page');
    expect(at(204)).toBe('warning:acked-probe');
    expect(at(200, { body: '<xml><return_code><![CDATA[FAIL]]></return_code></xml>' }, 'v2')).toBe('ok:');
    expect(at(200, { body: '<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>' }, 'v2')).toBe(
      'warning:acked-probe',
    );
    // Stacks in front of the handler fail the check whatever their status (docs/stacks.md).
    expect(
      at(419, {
        contentType: 'text/html',
        body: '<!DOCTYPE html><html><head><title>Page Expired</title></head></html>',
      }),
    ).toBe('error:csrf');
    expect(at(401, { headers: { 'www-authenticate': 'Basic realm="Realm"' } })).toBe('error:auth-wall');
    expect(
      at(500, {
        contentType: 'text/html',
        body: '<!doctype html><title>Server Error (500)</title><h1>Server Error (500)</h1>',
      }),
    ).toBe('warning:crash');
    // Plain-text FAIL is a refusal, not an acknowledgement; to v3 a 200 is an acknowledgement whatever it says.
    expect(at(200, { body: 'FAIL' }, 'v2')).toBe('warning:v2-plain-text-ack');
    expect(at(200, { body: 'FAIL' }, 'v3')).toBe('warning:acked-probe');
    expect(at(308, { location: '/n/' })).toBe('error:redirect');
  });

  it('judges certificates against the injected clock', () => {
    const facts = {
      protocol: 'TLSv1.3',
      subject: 'shop.example.com',
      validFrom: 'Jan  1 00:00:00 2026 GMT',
      validTo: 'Mar  1 00:00:00 2026 GMT',
    };
    const opts = { host: 'shop.example.com', insecure: false, timeMs: 5 };
    expect(classifyTls(facts, { ...opts, nowMs: Date.parse('2026-01-10T00:00:00Z') }).level).toBe('ok');
    expect(classifyTls(facts, { ...opts, nowMs: Date.parse('2026-02-20T00:00:00Z') })).toMatchObject({
      level: 'warning',
      message: expect.stringContaining('expires in 9 day'),
    });
    expect(classifyTls(facts, { ...opts, nowMs: Date.parse('2026-03-02T00:00:00Z') })).toMatchObject({
      level: 'error',
      message: expect.stringContaining('expired'),
    });
    const chain = classifyTls(
      { ...facts, chainError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
      { ...opts, nowMs: Date.parse('2026-01-10T00:00:00Z') },
    );
    expect(chain.message).toContain('incomplete chain: send the intermediate certificates');
  });
});

function writeConfig(name: string, v3: Record<string, unknown>, v2?: Record<string, unknown>): string {
  writeFileSync(join(tmp, 'platform-private.pem'), privateKeyPem, { mode: 0o600 });
  const config = {
    name: 'doctor-test',
    appid: 'wx2421b1c4370ec43b',
    mchid: '1900000109',
    ...(v2 ? { v2: { apiKey: 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6', signType: 'MD5', ...v2 } } : {}),
    v3: {
      apiV3Key: V3_KEY,
      platform: { privateKeyFile: 'platform-private.pem', serial: 'PUB_KEY_ID_0199999999000000000000000000000001' },
      ...v3,
    },
    order: { outTradeNo: 'T20261127000001', total: 1, openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  };
  const file = join(tmp, name);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

const deps = { reachability: { timeoutMs: TIMEOUT_MS }, hostname: () => 'doctor-test-host', env: {} };
const args = (config: string, extra = {}) => ({
  config,
  allowPrivate: true,
  insecure: false,
  format: 'table' as const,
  ...extra,
});

describe('doctorCommand', () => {
  it('reports by URL, says where it ran from, ends with the totals line; exit 0 with warnings only', async () => {
    const file = writeConfig('ok.json', {
      notifyUrl: `${base.good}/wxpay/v3/notify`,
      refundNotifyUrl: `${base.good}/wxpay/v3/refund`,
    });
    const io = memoryIO();
    expect(await doctorCommand(args(file), io, deps)).toBe(EXIT.ok);
    const out = io.stdout;
    expect(out).toContain('v3 payment notify_url (支付结果通知): http://127.0.0.1:');
    expect(out).toMatch(/ok\s+apiv3-key/);
    expect(out).toContain('doctor-test-host');
    expect(out).toContain('CI runner');
    expect(out.trimEnd().split('\n').at(-1)).toMatch(/^\d+ passed, \d+ warnings, 0 failed$/);
    expect(out).not.toContain(V3_KEY);
  });

  it('reports a bad APIv3 key as cause 1 and still checks the URLs; exit 1', async () => {
    const file = writeConfig('bad-key.json', {
      apiV3Key: V3_KEY.slice(1),
      notifyUrl: `${base.login}/wxpay/v3/notify `,
      refundNotifyUrl: `${base.good}/wxpay/v3/refund`,
    });
    const io = memoryIO();
    expect(await doctorCommand(args(file, { format: 'json' }), io, deps)).toBe(EXIT.failed);
    const report = JSON.parse(io.stdout) as {
      groups: Array<{ title: string; url?: string; checks: DoctorCheck[] }>;
      totals: { failed: number };
      ranFrom: { hostname: string };
    };
    const key = report.groups[0]!.checks.find((c) => c.rule === 'apiv3-key')!;
    expect(key).toMatchObject({ level: 'error', cause: 'apiv3-key' });
    expect(key.message).toContain('APIv3 key (APIv3密钥)');
    expect(key.message).toContain('sends no v3 callbacks at all');
    const pay = report.groups.find((g) => g.url?.endsWith('/wxpay/v3/notify '))!;
    expect(levels(pay.checks)).toEqual(expect.arrayContaining(['whitespace:error', 'probe:error']));
    expect(report.groups[0]!.checks.some((c) => c.message.includes('whitespace'))).toBe(false);
    expect(report.ranFrom.hostname).toBe('doctor-test-host');
  });

  it('without --allow-private: private URLs are errors and no traffic is sent', async () => {
    seen.length = 0;
    const file = writeConfig(
      'private.json',
      { notifyUrl: `${base.good}/wxpay/notify`, refundNotifyUrl: `${base.good}/wxpay/notify` },
      { notifyUrl: `${base.good}/wxpay/notify`, refundNotifyUrl: `${base.good}/wxpay/v2/refund` },
    );
    const io = memoryIO();
    expect(await doctorCommand(args(file, { allowPrivate: false }), io, deps)).toBe(EXIT.failed);
    expect(seen).toEqual([]);
    expect(io.stdout).toMatch(/FAIL\s+private-host/);
    expect(io.stdout).toContain('add --allow-private');
    expect(io.stdout).toMatch(/WARN\s+v2-v3-same/);
    expect(io.stdout).toMatch(/WARN\s+pay-refund-same/);
  });

  it('--skip-network checks the rules only', async () => {
    seen.length = 0;
    const file = writeConfig('skip.json', {
      notifyUrl: `${base.good}/wxpay/v3/notify`,
      refundNotifyUrl: `${base.good}/wxpay/v3/refund`,
    });
    const io = memoryIO();
    expect(await doctorCommand(args(file, { skipNetwork: true }), io, deps)).toBe(EXIT.ok);
    expect(seen).toEqual([]);
    expect(io.stdout).not.toContain('probe');
  });

  it('a missing config file is a usage error (exit 2)', async () => {
    const error = await doctorCommand(args(join(tmp, 'nope.json')), memoryIO(), deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(exitCodeFor(error)).toBe(EXIT.usage);
  });
});

describe('lintUrlCommand', () => {
  it('lints without network: exit 1 on errors, 0 on warnings only, JSON on request', async () => {
    const io = memoryIO();
    expect(
      await lintUrlCommand(
        { url: 'https://shop.example.com/wxpay/notify?a=1', allowPrivate: false, format: 'table' },
        io,
      ),
    ).toBe(EXIT.failed);
    expect(io.stdout).toMatch(/FAIL\s+query/);
    expect(io.stdout.trimEnd().split('\n').at(-1)).toBe('0 passed, 0 warnings, 1 failed');
    const json = memoryIO();
    expect(
      await lintUrlCommand({ url: 'http://shop.example.com/wxpay/notify', allowPrivate: false, format: 'json' }, json),
    ).toBe(EXIT.ok);
    expect(JSON.parse(json.stdout)).toMatchObject({
      command: 'lint-url',
      totals: { passed: 0, warnings: 1, failed: 0 },
    });
  });
});
