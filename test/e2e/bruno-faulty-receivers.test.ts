import { describe, expect, it } from 'vitest';
import { memoryIO } from '../../src/shared/command-io.js';
import { runSuite } from '../../src/commands/run.js';
import { FAULTY_RECEIVERS } from '../fixtures/faulty-receivers.js';
import { startSuite } from '../support/suite-fixture.js';
import { runWithBruno, type BrunoSandbox } from '../support/run-with-bruno.js';

/**
 * A representative subset of the faulty receivers (the full matrix runs under newman in
 * faulty-receivers.test.ts, and each Bruno run of the whole suite takes 15-30 s): one per kind of
 * fault (v2 parsing, v3 signature checking, body bytes, redelivery with concurrent copies,
 * redirects, dropped connections), each compared with what newman reports against a fresh copy of
 * the same receiver. Concurrency also runs in the developer sandbox, whose timing differs.
 */
const FAULTS: [string, BrunoSandbox][] = [
  ['parses-xml-as-json', 'safe'],
  ['v3-no-signature-check', 'safe'],
  ['reserialises-body', 'safe'],
  ['not-idempotent', 'safe'],
  ['not-idempotent', 'developer'],
  ['redirects', 'safe'],
  ['drops-connection', 'safe'],
];

// Bruno's own test results know nothing of controls (inconclusive is `run`'s verdict over a case
// and its twin), so compare what the judge said of each delivery.
const underNewman = new Map<string, Promise<string[]>>();
/** newman's verdicts depend on the fixture only: one run per fixture, whichever Bruno sandbox it is compared with. */
function failingUnderNewman(fixture: string): Promise<string[]> {
  if (!underNewman.has(fixture)) underNewman.set(fixture, runUnderNewman(fixture));
  return underNewman.get(fixture)!;
}

async function runUnderNewman(fixture: string): Promise<string[]> {
  const suite = await startSuite({ start: (opts) => FAULTY_RECEIVERS[fixture]!.start(opts) });
  try {
    const io = memoryIO();
    const code = await runSuite(suite.config, { format: 'json', reporters: [], reporterDir: '.', insecure: false }, io, 'test');
    expect(code).toBe(1);
    const deliveries = (JSON.parse(io.stdout) as { deliveries: { caseId: string; verdict: string }[] }).deliveries;
    return [...new Set(deliveries.filter((d) => d.verdict === 'fail').map((d) => d.caseId))].sort();
  } finally {
    await suite.close();
  }
}

describe('faulty receivers under Bruno fail the same cases as under newman', () => {
  for (const [fixture, sandbox] of FAULTS) {
    it(`${fixture} (${sandbox}): ${FAULTY_RECEIVERS[fixture]!.description}`, async () => {
      const newman = await failingUnderNewman(fixture);
      // A fresh receiver: some faults depend on what the receiver has already seen.
      const suite = await startSuite({ start: (opts) => FAULTY_RECEIVERS[fixture]!.start(opts) });
      try {
        const bruno = await runWithBruno(suite.config, { sandbox });
        expect(bruno.failing).toEqual(newman);
        expect(bruno.exitCode).toBe(1);
      } finally {
        await suite.close();
      }
    }, 300_000);
  }
});
