import { describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/shared/command-io.js';
import { runSuite } from '../../src/commands/run.js';
import { FAULTY_RECEIVERS } from '../fixtures/faulty-receivers.js';
import { startSuite } from '../support/suite-fixture.js';
import { runWithBruno, type BrunoSandbox } from '../support/run-with-bruno.js';

/**
 * A representative subset of the faulty receivers (the full matrix runs under newman in
 * faulty-receivers.test.ts): one per kind of fault (v2 parsing, v3 signature checking, body bytes,
 * redelivery with concurrent copies, redirects, dropped connections), each compared with what newman
 * reports against a fresh copy of the same receiver. Bruno differs from newman only in the glue
 * (how a request is read, signed, sent and judged), not in the catalogue, so each fixture runs the
 * cases that expose its fault plus their genuine controls, named here: the verdicts on those are
 * where the glue could go wrong. Concurrency also runs in the developer sandbox, whose timing differs.
 */
const FAULTS: [string, BrunoSandbox, string[]][] = [
  ['parses-xml-as-json', 'safe', ['v2.pay.success', 'v2.pay.non-ascii', 'v2.refund.success', 'v2.forged.bad-sign']],
  ['v3-no-signature-check', 'safe', ['v3.pay.success', 'v3.forged.*']],
  ['reserialises-body', 'safe', ['v3.pay.success', 'v3.pay.non-ascii', 'v3.robust.*']],
  ['not-idempotent', 'safe', ['v2.pay.success', 'v2.redelivery.*', 'v3.pay.success', 'v3.redelivery.*']],
  ['not-idempotent', 'developer', ['v3.pay.success', 'v3.redelivery.*']],
  ['redirects', 'safe', ['v2.pay.success', 'v3.pay.success', 'v3.refund.success']],
  ['drops-connection', 'safe', ['v2.pay.success', 'v3.pay.success']],
];

// Bruno's own test results know nothing of controls (inconclusive is `run`'s verdict over a case
// and its twin), so compare what the judge said of each delivery.
const underNewman = new Map<string, Promise<string[]>>();
/** newman's verdicts depend on the fixture and cases only: one run each, whichever Bruno sandbox it is compared with. */
function failingUnderNewman(fixture: string, only: string[]): Promise<string[]> {
  const key = `${fixture} ${only.join()}`;
  if (!underNewman.has(key)) underNewman.set(key, runUnderNewman(fixture, only));
  return underNewman.get(key)!;
}

async function runUnderNewman(fixture: string, only: string[]): Promise<string[]> {
  const suite = await startSuite({ start: (opts) => FAULTY_RECEIVERS[fixture]!.start(opts) });
  try {
    const io = memoryIO();
    const code = await runSuite(
      suite.config,
      { format: 'json', reporters: [], reporterDir: '.', insecure: false, only },
      io,
      'test',
    );
    expect(code).toBe(1);
    const deliveries = (JSON.parse(io.stdout) as { deliveries: { caseId: string; verdict: string }[] }).deliveries;
    return [...new Set(deliveries.filter((d) => d.verdict === 'fail').map((d) => d.caseId))].sort();
  } finally {
    await suite.close();
  }
}

describe('faulty receivers under Bruno fail the same cases as under newman', () => {
  for (const [fixture, sandbox, only] of FAULTS) {
    it(`${fixture} (${sandbox}): ${FAULTY_RECEIVERS[fixture]!.description}`, async () => {
      const newman = await failingUnderNewman(fixture, only);
      expect(newman.length, 'the fault shows on the cases chosen for it').toBeGreaterThan(0);
      // A fresh receiver: some faults depend on what the receiver has already seen.
      const suite = await startSuite({ start: (opts) => FAULTY_RECEIVERS[fixture]!.start(opts) });
      try {
        const bruno = await runWithBruno(suite.config, { sandbox, only });
        expect(bruno.failing).toEqual(newman);
        expect(bruno.exitCode).toBe(1);
      } finally {
        await suite.close();
      }
    }, 300_000);
  }
});
