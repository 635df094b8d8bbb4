import { describe, expect, it } from 'vitest';
import { selectCases } from '../../src/cases/select-cases.js';
import type { CaseDefinition } from '../../src/cases/types.js';
import { startSuite } from '../support/suite-fixture.js';
import { runWithBruno, type BrunoSandbox } from '../support/run-with-bruno.js';
import { seededRandom, type SeededRandom } from '../support/seeded-random.js';

/**
 * The Bruno collection run the way a Bruno user runs it (`bru run -r --env-file …`) in both of
 * Bruno's sandboxes: safe (QuickJS, Bruno's default) and developer (Node vm).
 *
 * Bruno runs the same signer and judge as Postman (test/unit/bruno-output.test.ts proves the shared
 * code and that every case becomes one .bru request in catalogue order); what is Bruno's own is the
 * glue: how a request reads its variables and sets its headers, and how a script sends more than one
 * copy. So each sandbox runs, every time, the cases whose glue differs from the rest, one case drawn
 * from WXPAY_TEST_SEED (printed on failure) for each catalogue folder they leave out, and two more
 * drawn from all the others: each run sends every kind of notification, and over runs every case
 * meets Bruno in both sandboxes.
 */
const SANDBOXES: BrunoSandbox[] = ['safe', 'developer'];

/** The cases whose Bruno glue differs from the rest of their folder. */
const GLUE_CASES = [
  'v3.redelivery.concurrent', // copies sent concurrently from the request's script (bru.sendRequest)
  'v3.redelivery.sequential', // the first copy's notification kept in Bruno's run variables
  'v3.robust.key-order', // the spaced envelope, whose trailing newline Bruno's client trims
  'v3.robust.non-ascii', // UTF-8 bodies through Bruno's client, byte for byte
  'v2.robust.non-ascii',
  'v3.refund.manual-xml', // v2 XML to the v3 refund URL
  'v3.forged.missing-headers', // the script removes headers through req.deleteHeader
];

/** Cases drawn beyond one per folder: every case outside GLUE_CASES can be drawn in every run. */
const EXTRA_DRAWN = 2;

/** The glue cases, a drawn case of each folder they leave out, and EXTRA_DRAWN more, in catalogue order. */
function sampleCases(all: readonly CaseDefinition[], random: SeededRandom): CaseDefinition[] {
  const chosen = new Set(GLUE_CASES);
  const folders = new Set(all.filter((c) => chosen.has(c.id)).map((c) => c.folder));
  for (const folder of new Set(all.map((c) => c.folder))) {
    if (!folders.has(folder)) chosen.add(random.pick(all.filter((c) => c.folder === folder)).id);
  }
  for (let i = 0; i < EXTRA_DRAWN; i++) chosen.add(random.pick(all.filter((c) => !chosen.has(c.id))).id);
  return all.filter((c) => chosen.has(c.id));
}

describe('the Bruno collection (generate --format bruno) under @usebruno/cli', () => {
  for (const sandbox of SANDBOXES) {
    it(`${sandbox} sandbox: the glue cases and drawn cases of every folder pass against the reference receiver, every request judged`, async () => {
      const suite = await startSuite();
      try {
        const all = selectCases(suite.config);
        const only = sampleCases(all, seededRandom()).map((c) => c.id);
        // What generate sends for that --only: the cases and the genuine controls of the forged ones.
        const cases = selectCases(suite.config, { only });
        expect(cases.map((c) => c.id)).toEqual(expect.arrayContaining(GLUE_CASES));
        expect(new Set(cases.map((c) => c.folder))).toEqual(new Set(all.map((c) => c.folder)));
        const run = await runWithBruno(suite.config, { sandbox, only });
        const failures = run.requests.flatMap((r) =>
          r.status !== 'pass'
            ? [`${r.caseId}: ${r.status} ${r.error}`]
            : r.tests.filter((t) => !t.pass).map((t) => `${r.caseId}: ${t.name}: ${t.error}`),
        );
        expect(failures).toEqual([]);
        expect(run.exitCode).toBe(0);
        // Same cases, same ids, same copies as the Postman collection, in catalogue order.
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
