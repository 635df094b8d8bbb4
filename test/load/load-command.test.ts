import { createServer, type Server } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../src/config/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSuite, type LoadArgs } from '../../src/commands/load.js';
import { LOAD_DEFAULTS } from '../../src/commands/load-options.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { UserError, exitCodeFor } from '../../src/shared/errors.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import type { LoadReport } from '../../src/load/load-report.js';
import { startSuite, testKeys, type SuiteFixture } from '../support/suite-fixture.js';
import { createServer as createHttpsServer } from 'node:https';
import { createSelfSignedCertificate, testCertificateValidity } from '../../src/keys/self-signed-certificate.js';

/** Small rates and short runs: these tests prove behaviour, `npm run bench` measures speed. */
function args(over: Partial<LoadArgs> = {}): LoadArgs {
  return {
    config: 'test',
    rate: 20,
    duration: 2,
    ramp: 0,
    duplicates: LOAD_DEFAULTS.duplicates,
    concurrent: LOAD_DEFAULTS.concurrent,
    timeoutMs: LOAD_DEFAULTS.timeoutMs,
    presign: false,
    format: 'summary',
    reporters: [],
    reporterDir: '.',
    minAck: LOAD_DEFAULTS.minAck,
    maxP99: LOAD_DEFAULTS.maxP99,
    ...over,
  };
}

/** The config with its v3 payment notifications sent to a local port (a faulty server's). */
function v3NotifyAt(config: ResolvedConfig, port: number): ResolvedConfig {
  return { ...config, v3: { ...config.v3!, notifyUrl: `http://127.0.0.1:${port}/wxpay/v3/notify` } };
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function reportDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'wxpay-load-test-'));
  dirs.push(d);
  return d;
}

async function withSuite<T>(
  start: Parameters<typeof startSuite>[0],
  work: (suite: SuiteFixture) => Promise<T>,
): Promise<T> {
  const suite = await startSuite(start);
  try {
    return await work(suite);
  } finally {
    await suite.close();
  }
}

/** A TCP server standing in for a broken receiver; `onSocket` decides what each connection gets. */
async function rawServer(
  onSocket: (socket: import('node:net').Socket) => void,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as import('node:net').AddressInfo).port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

describe('wxpay-notify load', () => {
  it('a correct receiver is green: distinct genuine notifications of every kind, in two signing threads, all acknowledged and all recorded', async () => {
    await withSuite({}, async (suite) => {
      const io = memoryIO();
      const dir = reportDir();
      const code = await loadSuite(
        suite.config,
        args({
          rate: 30,
          duration: 2,
          workers: 2,
          mix: 'v3.pay=2,v3.refund=1,v2.pay=1,v2.refund=1',
          duplicates: 0.2,
          lookup: { url: `${suite.receiver.url}/orders/{out_trade_no}` },
          reporters: ['json', 'html'],
          reporterDir: dir,
        }),
        io,
      );
      expect(io.stderr).not.toMatch(/internal error/);
      expect(code).toBe(0);
      expect(io.stdout).toMatch(
        /^wxpay-notify load: 2 s at 30\/s to http:\/\/127\.0\.0\.1:\d+ \(v3\.pay 2 : v3\.refund 1 : v2\.pay 1 : v2\.refund 1\)$/m,
      );
      expect(io.stdout).toMatch(
        /acknowledged {2}100% of deliveries \(60; 0 failed\); 0 notifications never acknowledged/,
      );
      expect(io.stdout).toMatch(/lost {11}0/);
      expect(io.stdout).toMatch(/^PASS$/m);
      const report = JSON.parse(readFileSync(join(dir, `${suite.config.name}.load.json`), 'utf8')) as LoadReport;
      expect(report.deliveries.sent).toBe(60);
      expect(report.orders.sent + report.deliveries.duplicates).toBe(60);
      expect(report.deliveries.duplicates).toBeGreaterThan(0);
      expect(report.reconciliation).toMatchObject({
        checked: report.orders.sent,
        recorded: report.orders.sent,
        lost: [],
        duplicated: [],
        wrongAmount: [],
      });
      expect(report.verdict).toBe('pass');
      // What the receiver verified: every kind, each notification its own order, copies processed once.
      const acked = suite.receiver.log.filter((e) => e.outcome === 'ack');
      expect(acked).toHaveLength(60);
      expect(new Set(acked.map((e) => `${e.version}.${e.kind}`))).toEqual(
        new Set(['v3.pay', 'v3.refund', 'v2.pay', 'v2.refund']),
      );
      expect(acked.filter((e) => e.duplicate)).toHaveLength(report.deliveries.duplicates);
      const html = readFileSync(join(dir, `${suite.config.name}.load.html`), 'utf8');
      expect(html).toContain('<svg id="chart-latency"');
      expect(html).not.toContain(suite.config.v3!.apiV3Key);
    });
  }, 30_000);

  it('a handler that drops records after acknowledging: the lost orders are named, and the run fails', async () => {
    await withSuite(
      { start: (opts) => startReceiver({ ...opts, faults: { dropEvery: 10 } }, { host: '127.0.0.1', port: 0 }) },
      async (suite) => {
        const io = memoryIO();
        const code = await loadSuite(
          suite.config,
          args({
            rate: 20,
            duration: 2,
            duplicates: 0,
            format: 'json',
            lookup: { url: `${suite.receiver.url}/orders/{out_trade_no}` },
          }),
          io,
        );
        expect(code).toBe(1);
        const report = JSON.parse(io.stdout) as LoadReport;
        expect(report.deliveries.ackRate).toBe(100);
        const dropped = suite.receiver.records!.dropped.map((f) => f.out_trade_no).sort();
        expect(dropped).toHaveLength(4);
        expect(report.reconciliation!.lost.map((f) => f.record.outTradeNo).sort()).toEqual(dropped);
        expect(report.thresholds.find((t) => t.name === 'reconciliation')).toMatchObject({
          pass: false,
          actual: '4 findings',
        });
        // The same in words.
        const words = memoryIO();
        await withSuite(
          { start: (opts) => startReceiver({ ...opts, faults: { dropEvery: 5 } }, { host: '127.0.0.1', port: 0 }) },
          async (s2) => {
            await loadSuite(
              s2.config,
              args({
                rate: 10,
                duration: 1,
                duplicates: 0,
                mix: 'v3.pay',
                lookup: { url: `${s2.receiver.url}/orders/{out_trade_no}` },
              }),
              words,
            );
            const lost = s2.receiver.records!.dropped.map((f) => f.out_trade_no);
            expect(words.stdout).toContain(
              `lost           ${lost.length} acknowledged but not recorded (应答成功, 但回调数据丢失):`,
            );
            for (const order of lost)
              expect(words.stdout).toContain(`v3 order ${order}: acknowledged, but the lookup says`);
          },
        );
      },
    );
  }, 30_000);

  it('copies that race get a 500: the cause is named not-idempotent with the orders, and --min-ack gates the exit code', async () => {
    await withSuite(
      {
        start: (opts) =>
          startReceiver({ ...opts, faults: { race: { windowMs: 300 } } }, { host: '127.0.0.1', port: 0 }),
      },
      async (suite) => {
        const io = memoryIO();
        const code = await loadSuite(
          suite.config,
          args({ rate: 10, duration: 1, mix: 'v3.pay', duplicates: 1, concurrent: 1, minAck: 40 }),
          io,
        );
        expect(io.stdout).toMatch(/^ {2}not-idempotent +\d+ {2}/m);
        expect(io.stdout).toMatch(/e\.g\. T\d+ \(copy 2\): HTTP 500/);
        expect(io.stdout).toMatch(/acknowledged ≥ 40%: PASS/);
        expect(code).toBe(0);
        const strict = memoryIO();
        expect(
          await loadSuite(
            suite.config,
            args({ rate: 10, duration: 1, mix: 'v3.pay', duplicates: 1, concurrent: 1 }),
            strict,
          ),
        ).toBe(1);
        expect(strict.stdout).toMatch(/acknowledged ≥ 100%: FAIL \(\d+(\.\d+)?%\)/);
      },
    );
  }, 30_000);

  it("what is not acknowledged comes again on WeChat's schedule (compressed), re-signed, until it is; the ramp rises to the rate", async () => {
    let refused = 0;
    await withSuite(
      {
        start: (opts) =>
          startReceiver(opts, {
            host: '127.0.0.1',
            port: 0,
            // Down for the first six notifications (a restart), then correct.
            hook: async (_request, next) =>
              refused++ < 6
                ? {
                    status: 503,
                    body: 'restarting',
                    contentType: 'text/plain',
                    log: { path: '', version: 'v3', kind: 'pay', outcome: 'reject', reason: 'restarting', status: 503 },
                  }
                : next(),
          }),
      },
      async (suite) => {
        const io = memoryIO();
        const code = await loadSuite(
          suite.config,
          args({
            rate: 20,
            duration: 3,
            ramp: 2,
            mix: 'v3.pay',
            duplicates: 0,
            retrySpeedup: 150,
            minAck: 50,
            format: 'json',
          }),
          io,
        );
        const report = JSON.parse(io.stdout) as LoadReport;
        expect(report.deliveries.retries).toBe(6);
        expect(report.orders.notAcknowledged).toBe(0);
        expect(report.failures).toMatchObject([{ cause: 'server-error', count: 6 }]);
        expect(report.deliveries.sent).toBe(report.orders.sent + 6);
        expect(report.orders.acknowledged).toBe(report.orders.sent);
        // 20/s for 3 s with a 2 s ramp, in one-second steps (one connection, then 11, then all 20): 32 deliveries.
        expect(report.deliveries.sent).toBe(32);
        const sent = report.perSecond.map((b) => b.sent);
        expect(sent[0]!).toBeLessThan(Math.max(...sent));
        expect(code).toBe(0);
      },
    );
  }, 30_000);

  it('bad input is one clear line and exit 2: an unreachable receiver, a bad rate, an unknown kind in the mix', async () => {
    const closed = await rawServer(() => undefined);
    const port = closed.port;
    await closed.close();
    await withSuite({}, async (suite) => {
      const config = v3NotifyAt(suite.config, port);
      const cases: [Parameters<typeof loadSuite>[0], LoadArgs, RegExp][] = [
        [
          config,
          args({ mix: 'v3.pay' }),
          new RegExp(`^cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): start the receiver first`),
        ],
        [suite.config, args({ rate: 0 }), /^--rate must be notifications per second from 1 to 100000, got 0$/],
        [
          suite.config,
          args({ mix: 'v4.pay=1' }),
          /^--mix: unknown kind "v4\.pay"; choose from v2\.pay, v2\.refund, v3\.pay, v3\.refund/,
        ],
        [suite.config, args({ presign: true, duration: 120 }), /^--presign .* keep --duration at most 60 s/],
      ];
      for (const [cfg, a, message] of cases) {
        const error = await loadSuite(cfg, a, memoryIO()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(UserError);
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).not.toContain('\n');
        expect(exitCodeFor(error)).toBe(2);
      }
    });
  }, 30_000);

  it('an https receiver: a certificate WeChat Pay would refuse stops the run before any delivery, unless --insecure; then load runs over TLS', async () => {
    const keys = testKeys();
    const cert = createSelfSignedCertificate({
      privateKeyPem: keys.certificate.privateKeyPem,
      serial: keys.certificate.serial,
      validity: testCertificateValidity(new Date()),
    });
    let requests = 0;
    const server = createHttpsServer({ key: keys.certificate.privateKeyPem, cert }, (req, res) => {
      requests++;
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    try {
      await withSuite({}, async (suite) => {
        const config = {
          ...suite.config,
          v3: { ...suite.config.v3!, notifyUrl: `https://127.0.0.1:${port}/wxpay/v3/notify` },
        };
        const strict = await loadSuite(config, args({ mix: 'v3.pay', duplicates: 0 }), memoryIO()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(strict).toBeInstanceOf(UserError);
        expect((strict as Error).message).toMatch(
          new RegExp(
            `^https://127\\.0\\.0\\.1:${port}: self-signed/untrusted certificate \\(自签名证书\\).*add --insecure$`,
          ),
        );
        expect(exitCodeFor(strict)).toBe(2);
        expect(requests).toBe(0);

        const io = memoryIO();
        const code = await loadSuite(
          config,
          args({ mix: 'v3.pay', duplicates: 0, rate: 10, duration: 1, format: 'json', insecure: true }),
          io,
        );
        expect(io.stderr).toMatch(/^warning: https:\/\/127\.0\.0\.1:\d+: self-signed.*accepted because of --insecure/m);
        const report = JSON.parse(io.stdout) as LoadReport;
        expect(code).toBe(0);
        expect(report.deliveries.sent).toBeGreaterThan(0);
        expect(report.deliveries.acknowledged).toBe(report.deliveries.sent);
        expect(requests).toBe(report.deliveries.sent);
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 30_000);

  // The four below wait on the tool's own deadlines (a 5 s latency limit, --timeout, Ctrl-C) against
  // receivers of their own: they run at once, so the file waits on those deadlines once, not four times.
  it.concurrent(
    'a handler slower than 5 s: latency over the limit, cause slow, and --max-p99 fails the run',
    async ({ expect }) => {
      await withSuite(
        {
          start: (opts) =>
            startReceiver(opts, {
              host: '127.0.0.1',
              port: 0,
              hook: async (_request, next) => {
                await new Promise((r) => setTimeout(r, 5200));
                return next();
              },
            }),
        },
        async (suite) => {
          const io = memoryIO();
          const code = await loadSuite(
            suite.config,
            args({ rate: 4, duration: 1, mix: 'v3.pay', duplicates: 0, format: 'json' }),
            io,
          );
          expect(code).toBe(1);
          const report = JSON.parse(io.stdout) as LoadReport;
          expect(report.failures.map((f) => f.cause)).toEqual(['slow']);
          expect(report.failures[0]!.hint).toContain('超时重试');
          expect(report.latencyMs.overLimit).toBe(4);
          expect(report.latencyMs.p99).toBeGreaterThan(5000);
          expect(report.thresholds.find((t) => t.name === 'p99 latency')).toMatchObject({
            limit: '≤ 5000 ms',
            pass: false,
          });
        },
      );
    },
    30_000,
  );

  it.concurrent(
    'a receiver that hangs: timeouts, bounded by --timeout, never a hang of our own',
    async ({ expect }) => {
      const hang = await rawServer(() => undefined);
      try {
        await withSuite({}, async (suite) => {
          const config = v3NotifyAt(suite.config, hang.port);
          const io = memoryIO();
          const started = Date.now();
          const code = await loadSuite(
            config,
            args({ rate: 3, duration: 1, mix: 'v3.pay', duplicates: 0, timeoutMs: 1000 }),
            io,
          );
          expect(Date.now() - started).toBeLessThan(15_000);
          expect(code).toBe(1);
          expect(io.stdout).toMatch(/timeouts {6}3 \(no answer within 1,000 ms\)/);
          expect(io.stdout).toMatch(/^ {2}timeout +3 {2}No answer in time/m);
        });
      } finally {
        await hang.close();
      }
    },
    30_000,
  );

  it.concurrent(
    'a receiver that resets every connection: connection errors with their cause',
    async ({ expect }) => {
      const reset = await rawServer((s) => s.once('data', () => s.resetAndDestroy()));
      try {
        await withSuite({}, async (suite) => {
          const config = v3NotifyAt(suite.config, reset.port);
          const io = memoryIO();
          const code = await loadSuite(
            config,
            args({ rate: 4, duration: 1, mix: 'v3.pay', duplicates: 0, format: 'json' }),
            io,
          );
          expect(code).toBe(1);
          const report = JSON.parse(io.stdout) as LoadReport;
          expect(report.deliveries.sent).toBe(4);
          expect(report.connectionErrors).toBe(4);
          expect(report.failures.map((f) => f.cause)).toEqual(['conn-reset']);
          expect(report.failures[0]!.hint).toContain('连接被重置');
        });
      } finally {
        await reset.close();
      }
    },
    30_000,
  );

  it.concurrent(
    'Ctrl-C stops sending at once, waits for what is in flight, and reports what was judged',
    async ({ expect }) => {
      await withSuite({}, async (suite) => {
        const io = memoryIO();
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 1500);
        const started = Date.now();
        const code = await loadSuite(
          suite.config,
          args({ rate: 10, duration: 60, mix: 'v3.pay', duplicates: 0 }),
          io,
          controller.signal,
        );
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(code).toBe(1);
        expect(io.stderr).toContain('interrupted: stopped sending; results so far');
        expect(io.stdout).toMatch(/— interrupted \(Ctrl-C\)/);
        const sent = Number(/sent {10}(\d+) deliveries/.exec(io.stdout)?.[1]);
        expect(sent).toBeGreaterThan(0);
        expect(sent).toBeLessThan(60);
        // Whatever went out was answered and judged: nothing left dangling.
        expect(io.stdout).toContain(`acknowledged  100% of deliveries (${sent}; 0 failed)`);
        expect(suite.receiver.log).toHaveLength(sent);
      });
    },
    30_000,
  );
});
