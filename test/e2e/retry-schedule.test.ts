import { describe, expect, it } from 'vitest';
import { startSuite } from '../support/suite-fixture.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/commands/io.js';
import { formatWechatOffset, replayOnSchedule } from '../../src/runner/retry-schedule.js';
import type { DeliveryResult } from '../../src/runner/types.js';

/** A merchant that is down (500) for its first `down` notifications, then recovers. */
function recoversAfter(down: number) {
  let seen = 0;
  return (opts: Parameters<typeof startReceiver>[0]) =>
    startReceiver(opts, {
      hook: async (_request, next) => {
        seen++;
        if (seen <= down) return { status: 500, contentType: 'text/plain', body: 'restarting', log: { path: '', version: 'v3', kind: 'pay', outcome: 'reject', reason: 'down' } };
        return next();
      },
    });
}

describe('run --retry-schedule', () => {
  it("replays on WeChat's schedule, re-signed, until the merchant recovers; the case then passes", async () => {
    const suite = await startSuite({ start: recoversAfter(3) });
    try {
      const io = memoryIO();
      const code = await runSuite(suite.config, { format: 'table', reporters: [], reporterDir: '.', insecure: false, only: ['v3.pay.success'], retrySpeedup: 200_000 }, io, 'retry');
      expect(code).toBe(0);
      expect(io.stdout).toMatch(/^v3\.pay\.success\s+protocol\s+500\s+.*PASS$/m);
      expect(io.stdout).toContain("Retry timeline for v3.pay.success (WeChat's schedule, 200000x faster): acknowledged on attempt 4");
      expect(io.stdout).toMatch(/#1 {2}\+0s {7}500 {2}FAIL {2}server-error/);
      expect(io.stdout).toMatch(/#2 {2}\+15s {6}500/);
      expect(io.stdout).toMatch(/#4 {2}\+1m {7}204 {2}PASS/);
      // Each attempt was a fresh, correctly signed delivery that the receiver accepted once up.
      const acked = suite.receiver.log.filter((e) => e.outcome === 'ack');
      expect(acked).toHaveLength(1);
    } finally {
      await suite.close();
    }
  }, 60_000);

  it('gives up after 15 retries (24h4m of WeChat time) and the case fails', async () => {
    const suite = await startSuite({ start: recoversAfter(1000) });
    try {
      const io = memoryIO();
      expect(await runSuite(suite.config, { format: 'json', reporters: [], reporterDir: '.', insecure: false, only: ['v3.pay.success', 'v3.forged.bad-signature'], retrySpeedup: 500_000 }, io, 'retry')).toBe(1);
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

  it('waits the scheduled gaps, scaled by the speed-up', async () => {
    const waits: number[] = [];
    const first = { caseId: 'x', verdict: 'fail', cause: 'server-error', status: 500 } as DeliveryResult;
    let n = 0;
    const timeline = await replayOnSchedule(first, async () => ({ ...first, verdict: ++n === 3 ? 'pass' : 'fail' }), { speedup: 10, sleep: async (ms) => void waits.push(ms) });
    expect(waits).toEqual([1500, 1500, 3000]);
    expect(timeline.attempts.map((a) => formatWechatOffset(a.wechatOffsetSeconds))).toEqual(['+0s', '+15s', '+30s', '+1m']);
    expect(formatWechatOffset(86_640)).toBe('+24h4m');
  });
});
