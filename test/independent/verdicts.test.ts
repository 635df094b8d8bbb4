import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfig } from '../../src/commands/demo.js';
import { secretValues } from '../../src/collection/variables.js';
import { runFailed } from '../../src/judge/judge-run.js';
import { STDOUT_REPORTERS } from '../../src/report/reporters/index.js';
import type { RunEvents } from '../../src/runner/suite-run.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { CATALOGUE } from '../../src/cases/catalogue.js';
import type { CaseDefinition } from '../../src/cases/types.js';
import {
  independentHandlerConfig,
  independentHandlerUnavailableReason,
  runSuiteOnIndependentHandler,
  startIndependentHandler,
  type IndependentHandlerBug,
  type IndependentRun,
  type StartedIndependentHandler,
} from '../support/independent-handler.js';
import { printSeedOnFailure, seededStream } from '../support/seeded-random.js';
import { runShared } from '../support/shared-run.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * The suite against a handler we did not write (test/fixtures/independent-handler, Python, from
 * WeChat's documentation), one realistic merchant bug at a time. For each bug: the run fails, the
 * cases that expose it fail and nothing else does, and the text a person reads on each of those rows
 * names the bug — not a neighbouring cause. Forged cases whose genuine twin was refused are
 * inconclusive, never a hollow PASS.
 */
const unavailable = independentHandlerUnavailableReason();

/** The demo config (HMAC-SHA256, both signers, combine) selects every case of the catalogue. */
const ids = (filter: (c: CaseDefinition) => boolean): string[] => CATALOGUE.filter(filter).map((c) => c.id);
const V2_PATH_ACK = ids((c) => c.version === 'v2' && c.expect === 'ack' && c.sendTo !== 'v3');
const V2_FORGED = ids((c) => c.version === 'v2' && c.expect === 'reject');
const V3_ACK = ids((c) => c.version === 'v3' && c.expect === 'ack');
const V3_FORGED = ids((c) => c.version === 'v3' && c.expect === 'reject');
/** v3 cases signed by the public key (PUB_KEY_ID_…): every v3 case but the certificate's own. */
const V3_PUBLIC_KEY_SIGNED = V3_ACK.filter((id) => id !== 'v3.keys.certificate');

interface BugExpectation {
  bugs: IndependentHandlerBug[];
  failing: string[];
  inconclusive?: string[];
  /** What every failing row of the table must say. */
  row: RegExp;
  /** A note above the table, when the bug shows across many cases. */
  note?: RegExp;
  /** Passing cases the note weighs (what was acknowledged beside what was refused): always run. */
  evidence?: string[];
  code?: number;
}

const BUGS: Record<string, BugExpectation> = {
  'v2 body parsed as JSON': {
    bugs: ['xml-as-json'],
    failing: V2_PATH_ACK,
    inconclusive: V2_FORGED,
    row: /parses the v2 XML notification as JSON/,
    note: /The answers talk about JSON: the handler parses the XML notification as JSON/,
  },
  'v3 verified over a compact re-serialised body': {
    bugs: ['reserialize-compact'],
    failing: ['v3.robust.key-order', 'v3.robust.spaced-separators'],
    row: /verify the bytes as received, never a re-serialised copy|never over JSON\.stringify\(parsed\)/,
  },
  "v3 verified over json.dumps(json.loads(body)) (Python's default separators)": {
    bugs: ['reserialize-default'],
    failing: V3_ACK.filter((id) => id !== 'v3.robust.spaced-separators'),
    inconclusive: V3_FORGED,
    row: /raw body/,
    evidence: ['v3.robust.spaced-separators'],
    note: /Only the body written with a space after every ',' and ':' was acknowledged: the handler verifies the signature over a re-serialised body \(Python's json\.dumps\(json\.loads\(body\)\)/,
  },
  'a repeated order is a unique-constraint error': {
    bugs: ['unique-order'],
    failing: ['v3.keys.migration', 'v3.redelivery.sequential', 'v2.redelivery.sequential', 'v3.redelivery.concurrent'],
    row: /idempotent|幂等/,
  },
  'v2 acknowledged with plain text': {
    bugs: ['v2-plain-text'],
    failing: [...V2_PATH_ACK, 'v3.refund.manual-xml'],
    inconclusive: V2_FORGED,
    row: /Answered plain text \(e\.g\. "success"\): v2 requires XML/,
  },
  'refund req_info decrypted with the raw APIv2 key': {
    bugs: ['refund-key-raw'],
    failing: [...ids((c) => c.id.startsWith('v2.refund.')), 'v3.refund.manual-xml'],
    inconclusive: ['v2.forged.refund-wrong-key'],
    row: /md5\(APIv2 key\)/,
  },
  'v3 refuses forgeries with 200 {"code":"FAIL"}': {
    bugs: ['v3-200-fail'],
    failing: V3_FORGED,
    row: /HTTP 200 with \{"code":"FAIL"\} counts as received/,
  },
  'v3 signature headers optional': {
    bugs: ['headers-optional'],
    failing: ['v3.forged.missing-headers'],
    row: /never looks at Wechatpay-Signature/,
  },
  'no timestamp window (advisory: reported, exit 0)': {
    bugs: ['no-timestamp-window'],
    failing: ['v3.forged.stale-timestamp', 'v3.forged.future-timestamp'],
    row: /more than 5 minutes off/,
    code: 0,
  },
  'only the platform certificate trusted': {
    bugs: ['cert-only'],
    failing: V3_PUBLIC_KEY_SIGNED,
    inconclusive: V3_FORGED,
    row: /Wechatpay-Serial|fails exactly as v3\.pay\.success/,
    evidence: ['v3.keys.certificate'],
    note: /Every delivery signed with PUB_KEY_ID_\w+ was refused, while those signed with [0-9A-F]+ were acknowledged: the test server does not trust PUB_KEY_ID_/,
  },
};

/**
 * Each bug runs the cases it must fail or leave inconclusive, the passing cases its note weighs, and
 * a seeded sample of the cases it must pass: the whole catalogue passing against this handler is
 * what 'the correct handler passes every case' proves, and each bug touches one code path of it.
 * The sample changes with WXPAY_TEST_SEED (printed when a test fails), so over runs every case
 * meets every bug.
 */
const PASSING_SAMPLE = 6;
const ALL = CATALOGUE.map((c) => c.id);

function casesFor(name: string, expected: BugExpectation): string[] {
  const random = seededStream(`independent handler: ${name}`);
  const targeted = new Set([...expected.failing, ...(expected.inconclusive ?? []), ...(expected.evidence ?? [])]);
  const others = ALL.filter((id) => !targeted.has(id));
  const sample: string[] = [];
  while (sample.length < Math.min(PASSING_SAMPLE, others.length))
    sample.push(others.splice(random.int(others.length), 1)[0]!);
  return [...targeted, ...sample];
}

/**
 * ONE Newman run for every bug (test/support/shared-run.ts): one handler.py per bug, each on its own
 * port with its own folder of the collection; each bug's deliveries are judged on their own, and the
 * table and JSON reports rendered from that judgement, as `run --format table --reporters json`
 * renders them for a run against that handler alone.
 */
async function runEveryBug(): Promise<Map<string, Pick<IndependentRun, 'code' | 'output' | 'report'>>> {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-independent-'));
  const keys = testKeys();
  const handlers = new Map<string, StartedIndependentHandler>();
  try {
    const routes = independentHandlerConfig(demoConfig(keys, 'http://127.0.0.1:0', dir), keys);
    // All settled before any failure is thrown: the finally below then closes every handler that started.
    const started = await Promise.allSettled(
      Object.entries(BUGS).map(async ([name, expected]) =>
        handlers.set(name, await startIndependentHandler({ ...routes, bugs: expected.bugs })),
      ),
    );
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const results = await runShared(
      Object.entries(BUGS).map(([name, expected]) => ({
        name,
        config: demoConfig(keys, handlers.get(name)!.url, dir),
        only: casesFor(name, expected),
      })),
    );
    const runs = new Map<string, Pick<IndependentRun, 'code' | 'output' | 'report'>>();
    for (const [name, { judgement, addedControls }] of results) {
      const config = demoConfig(keys, handlers.get(name)!.url, dir);
      const io = memoryIO();
      io.addSecrets(secretValues(config));
      const events = new EventEmitter() as EventEmitter & RunEvents;
      const meta = {
        config: 'independent-handler',
        collection: config.name,
        addedControls,
        secrets: secretValues(config),
      };
      let json = '';
      STDOUT_REPORTERS.table.listen(events, { meta, io, write: (content) => io.out(content) });
      STDOUT_REPORTERS.json.listen(events, { meta, io, write: (content) => void (json = content) });
      events.emit('done', judgement);
      runs.set(name, { code: runFailed(judgement) ? 1 : 0, output: io.stdout, report: JSON.parse(json) });
    }
    return runs;
  } finally {
    await Promise.all([...handlers.values()].map((h) => h.close()));
    rmSync(dir, { recursive: true, force: true });
  }
}

let runs: Awaited<ReturnType<typeof runEveryBug>> | undefined;
beforeAll(async () => {
  if (unavailable === null) runs = await runEveryBug();
}, 300_000);
afterAll(() => runs?.clear());

const rowOf = (output: string, id: string): string =>
  output.split('\n').find((l) => l.startsWith(`${id} `)) ?? `(no row for ${id})`;

describe.skipIf(unavailable !== null)(
  `an independent handler, one bug at a time${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('the correct handler passes every case', async () => {
      const run = await runSuiteOnIndependentHandler();
      expect(run.report.cases.filter((c) => c.verdict !== 'pass').map((c) => `${c.caseId}: ${c.hint}`)).toEqual([]);
      expect(run.code).toBe(0);
    }, 90_000);

    for (const [name, expected] of Object.entries(BUGS)) {
      it(
        name,
        async () => {
          printSeedOnFailure();
          const only = casesFor(name, expected);
          const run = runs!.get(name)!;
          // Every case asked for was judged (with the genuine controls --only adds).
          expect(only.filter((id) => !run.report.cases.some((c) => c.caseId === id))).toEqual([]);
          const verdicts = (v: string) =>
            run.report.cases
              .filter((c) => c.verdict === v)
              .map((c) => c.caseId)
              .sort();
          expect(verdicts('fail')).toEqual([...expected.failing].sort());
          expect(verdicts('inconclusive')).toEqual([...(expected.inconclusive ?? [])].sort());
          expect(run.code).toBe(expected.code ?? 1);
          for (const id of expected.failing) expect(rowOf(run.output, id)).toMatch(expected.row);
          for (const id of expected.inconclusive ?? []) {
            expect(rowOf(run.output, id)).toMatch(
              /INCONCLUSIVE\s+could not judge: the genuine notification .* was rejected too; fix that first/,
            );
          }
          if (expected.note) expect(run.output).toMatch(new RegExp(`^Note \\d: .*${expected.note.source}`, 'm'));
        },
        90_000,
      );
    }

    it('--strict makes the advisory timestamp findings fail the run', async () => {
      const run = await runSuiteOnIndependentHandler({
        bugs: ['no-timestamp-window'],
        only: ['v3.forged.*'],
        failOn: 'advisory',
      });
      expect(run.code).toBe(1);
      expect(run.output).toMatch(/^\d+ passed, 2 failed$/m);
    }, 90_000);

    it("an answer 4.9 s after the request arrived is within WeChat's 5 s", async () => {
      // One run, the two cases one after the other: with 100 ms to spare, nothing else may be
      // running in this process while an answer is on its way (two runs at once failed under load).
      const run = await runSuiteOnIndependentHandler({
        bugs: ['slow=4900'],
        only: ['v2.pay.success', 'v3.pay.success'],
      });
      expect(run.report.cases.map((c) => [c.caseId, c.verdict])).toEqual([
        ['v2.pay.success', 'pass'],
        ['v3.pay.success', 'pass'],
      ]);
      expect(run.code).toBe(0);
    }, 90_000);
  },
);
