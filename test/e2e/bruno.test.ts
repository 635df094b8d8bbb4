import { describe, expect, it } from 'vitest';
import { selectCases } from '../../src/cases/select-cases.js';
import { startSuite } from '../support/suite-fixture.js';
import { runWithBruno, type BrunoSandbox } from '../support/run-with-bruno.js';

/**
 * The Bruno collection run the way a Bruno user runs it (`bru run -r --env-file …`) in both of
 * Bruno's sandboxes: safe (QuickJS, Bruno's default) and developer (Node vm).
 */
const SANDBOXES: BrunoSandbox[] = ['safe', 'developer'];

describe('the Bruno collection (generate --format bruno) under @usebruno/cli', () => {
  for (const sandbox of SANDBOXES) {
    it(`${sandbox} sandbox: every case passes against the reference receiver, every request judged`, async () => {
      const suite = await startSuite();
      try {
        const cases = selectCases(suite.config);
        const run = await runWithBruno(suite.config, { sandbox });
        const failures = run.requests.flatMap((r) =>
          r.status !== 'pass'
            ? [`${r.caseId}: ${r.status} ${r.error}`]
            : r.tests.filter((t) => !t.pass).map((t) => `${r.caseId}: ${t.name}: ${t.error}`),
        );
        expect(failures).toEqual([]);
        expect(run.exitCode).toBe(0);
        // Same cases, same ids, same copies as the Postman collection.
        const expected = cases.flatMap((c) => Array.from({ length: c.copies ?? 1 }, (_, i) => `${c.id} #${i + 1}`));
        expect(run.requests.map((r) => `${r.caseId} #${r.copy}`)).toEqual(expected);
        for (const r of run.requests) expect(r.tests.length, r.caseId).toBeGreaterThanOrEqual(2);
        const concurrent = cases.find((c) => c.concurrent)!;
        expect(
          run.requests
            .find((r) => r.caseId === concurrent.id)!
            .tests.filter((t) => t.name.startsWith('concurrent copy')),
        ).toHaveLength(2 * concurrent.concurrent!);
        // Every delivery reached the receiver, and each genuine one verified over the bytes sent.
        const deliveries = cases.reduce((n, c) => n + (c.copies ?? 1) + (c.concurrent ?? 0), 0);
        expect(suite.receiver.log).toHaveLength(deliveries);
        expect(suite.receiver.log.filter((l) => l.outcome === 'ack')).toHaveLength(
          cases.reduce((n, c) => n + (c.expect === 'ack' ? (c.copies ?? 1) + (c.concurrent ?? 0) : 0), 0),
        );
      } finally {
        await suite.close();
      }
    }, 300_000);
  }

  it('without secrets: no request is sent, each stops with an error naming the missing variable, bru exits 1', async () => {
    const suite = await startSuite();
    try {
      const run = await runWithBruno(suite.config, {
        sandbox: 'safe',
        withSecrets: false,
        only: ['v2.pay.success', 'v3.pay.success'],
      });
      expect(run.exitCode).toBe(1);
      expect(run.requests.map((r) => [r.caseId, r.status])).toEqual([
        ['v2.pay.success', 'error'],
        ['v3.pay.success', 'error'],
      ]);
      expect(run.requests[0]!.error).toContain('not sent (未发送): APIv2 key (APIv2密钥) is empty: set "v2_api_key"');
      expect(run.requests[1]!.error).toContain('not sent (未发送): APIv3 key (APIv3密钥) is empty: set "v3_api_key"');
      expect(suite.receiver.log).toEqual([]);
    } finally {
      await suite.close();
    }
  }, 300_000);
});
