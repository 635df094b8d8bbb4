import { describe, expect, it } from 'vitest';
import { startSuite } from '../support/suite-fixture.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { formatWechatOffset, replayOnSchedule, wechatStopsAfter } from '../../src/runner/retry-schedule.js';
import type { DeliveryResult } from '../../src/judge/types.js';

interface Received {
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A merchant that answers its first notifications from `answers` (e.g. 500 while restarting), then
 * correctly; `received` records every request as it arrived.
 */
function answersFirst(answers: { status: number; body: string }[], received: Received[] = []) {
  return (opts: Parameters<typeof startReceiver>[0]) =>
    startReceiver(opts, {
      hook: async (request, next) => {
        received.push({ body: request.rawBody, headers: request.headers });
        const answer = answers[received.length - 1];
        if (answer)
          return {
            ...answer,
            contentType: 'application/json',
            log: {
              path: '',
              version: request.route.version,
              kind: 'pay',
              outcome: 'reject',
              reason: 'scripted',
              status: answer.status,
            },
          };
        return next();
      },
    });
}
const recoversAfter = (down: number, received?: Received[]) =>
  answersFirst(
    Array.from({ length: down }, () => ({ status: 500, body: 'restarting' })),
    received,
  );

describe('run --retry-schedule', () => {
  it("replays the same notification on WeChat's schedule, re-signed, until the merchant recovers; the case then passes", async () => {
    const received: Received[] = [];
    const suite = await startSuite({ start: recoversAfter(3, received) });
    try {
      const io = memoryIO();
      const code = await runSuite(
        suite.config,
        {
          format: 'table',
          reporters: [],
          reporterDir: '.',
          insecure: false,
          only: ['v3.pay.success'],
          retrySpeedup: 200_000,
        },
        io,
        'retry',
      );
      expect(code).toBe(0);
      expect(io.stdout).toMatch(/^v3\.pay\.success\s+protocol\s+500\s+.*PASS$/m);
      expect(io.stdout).toContain(
        "Retry timeline for v3.pay.success (WeChat's schedule, 200000x faster): acknowledged on attempt 4",
      );
      expect(io.stdout).toMatch(/#1 {2}\+0s {7}500 {2}FAIL {2}server-error/);
      expect(io.stdout).toMatch(/#2 {2}\+15s {6}500/);
      expect(io.stdout).toMatch(/#4 {2}\+1m {7}204 {2}PASS/);
      // Each attempt was the same notification, correctly re-signed, which the receiver accepted once up.
      const acked = suite.receiver.log.filter((e) => e.outcome === 'ack');
      expect(acked).toHaveLength(1);
      expect(received).toHaveLength(4);
      const envelopes = received.map((r) => JSON.parse(r.body));
      for (const e of envelopes)
        expect({ id: e.id, create_time: e.create_time, resource: e.resource }).toEqual({
          id: envelopes[0].id,
          create_time: envelopes[0].create_time,
          resource: envelopes[0].resource,
        });
      expect(new Set(received.map((r) => r.headers['wechatpay-nonce'])).size).toBe(4);
      expect(new Set(received.map((r) => r.headers['wechatpay-signature'])).size).toBe(4);
      expect(new Set(received.map((r) => r.headers['request-id'])).size).toBe(4);
    } finally {
      await suite.close();
    }
  }, 60_000);

  it('gives up after 15 retries (24h4m of WeChat time) and the case fails', async () => {
    const suite = await startSuite({ start: recoversAfter(1000) });
    try {
      const io = memoryIO();
      expect(
        await runSuite(
          suite.config,
          {
            format: 'json',
            reporters: [],
            reporterDir: '.',
            insecure: false,
            only: ['v3.pay.success', 'v3.forged.bad-signature'],
            retrySpeedup: 500_000,
          },
          io,
          'retry',
        ),
      ).toBe(1);
      const report = JSON.parse(io.stdout);
      expect(report.retries).toHaveLength(1);
      expect(report.retries[0].attempts).toHaveLength(16);
      expect(report.retries[0].attempts.at(-1).wechatOffsetSeconds).toBe(86_640);
      expect(report.retries[0].acknowledged).toBe(false);
      expect(report.cases.find((c: any) => c.caseId === 'v3.pay.success').verdict).toBe('fail');
    } finally {
      await suite.close();
    }
  }, 60_000);

  it('v2: every retry is the same body, byte for byte (payment time, nonce_str and sign included)', async () => {
    const received: Received[] = [];
    const suite = await startSuite({ start: recoversAfter(2, received) });
    try {
      const io = memoryIO();
      expect(
        await runSuite(
          suite.config,
          {
            format: 'json',
            reporters: [],
            reporterDir: '.',
            insecure: false,
            only: ['v2.pay.success'],
            retrySpeedup: 500_000,
          },
          io,
          'retry',
        ),
      ).toBe(0);
      expect(received).toHaveLength(3);
      expect(new Set(received.map((r) => r.body)).size).toBe(1);
      expect(received[0]!.body).toMatch(/<time_end><!\[CDATA\[\d{14}\]\]><\/time_end>/);
    } finally {
      await suite.close();
    }
  }, 60_000);

  it('stops where WeChat stops: a 200 with {"code":"FAIL"} counts as received, so nothing is sent again and the case fails', async () => {
    const received: Received[] = [];
    const suite = await startSuite({
      start: answersFirst(
        [
          { status: 500, body: 'restarting' },
          { status: 200, body: '{"code":"FAIL","message":"busy"}' },
        ],
        received,
      ),
    });
    try {
      const io = memoryIO();
      expect(
        await runSuite(
          suite.config,
          {
            format: 'table',
            reporters: [],
            reporterDir: '.',
            insecure: false,
            only: ['v3.pay.success'],
            retrySpeedup: 500_000,
          },
          io,
          'retry',
        ),
      ).toBe(1);
      expect(received).toHaveLength(2);
      expect(io.stdout).toContain(
        'WeChat stops after attempt 2: HTTP 200 counts as received even with {"code":"FAIL"} in the body',
      );
      expect(io.stdout).toMatch(/^v3\.pay\.success\s+protocol\s+500\s+.*FAIL/m);
    } finally {
      await suite.close();
    }
  }, 60_000);

  it('a first answer of 200 {"code":"FAIL"} is not retried at all; a slow one is', async () => {
    const first = {
      caseId: 'v3.pay.success',
      verdict: 'fail',
      cause: 'v3-200-code-fail',
      status: 200,
      timeMs: 12,
    } as DeliveryResult;
    let sent = 0;
    const timeline = await replayOnSchedule(first, async () => (sent++, first), {
      speedup: 1,
      sleep: async () => undefined,
    });
    expect(sent).toBe(0);
    expect(timeline).toMatchObject({ acknowledged: false, stoppedBecause: 'received' });
    expect(timeline.attempts).toHaveLength(1);
    expect(wechatStopsAfter({ ...first, timeMs: 5200 })).toBeUndefined();
    const serverError: DeliveryResult = { ...first, cause: 'server-error', status: 500 };
    expect(wechatStopsAfter(serverError)).toBeUndefined();
    expect(wechatStopsAfter({ ...first, verdict: 'pass', cause: 'ok' })).toBe('acknowledged');
  });

  it('waits the scheduled gaps, scaled by the speed-up', async () => {
    const waits: number[] = [];
    const first = { caseId: 'x', verdict: 'fail', cause: 'server-error', status: 500 } as DeliveryResult;
    let n = 0;
    const timeline = await replayOnSchedule(first, async () => ({ ...first, verdict: ++n === 3 ? 'pass' : 'fail' }), {
      speedup: 10,
      sleep: async (ms) => void waits.push(ms),
    });
    expect(waits).toEqual([1500, 1500, 3000]);
    expect(timeline.attempts.map((a) => formatWechatOffset(a.wechatOffsetSeconds))).toEqual([
      '+0s',
      '+15s',
      '+30s',
      '+1m',
    ]);
    expect(formatWechatOffset(86_640)).toBe('+24h4m');
  });
});
