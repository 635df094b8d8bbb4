import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectCases } from '../../src/cases/select-cases.js';
import { demoConfig } from '../../src/commands/demo.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import { receiverOptionsFromConfig } from '../../src/receiver/from-config.js';
import type { StartedReceiver } from '../../src/receiver/types.js';
import { FAULTY_RECEIVERS } from '../fixtures/faulty-receivers.js';
import { runWithBrunoShared, type BrunoRun, type BrunoSandbox } from '../support/run-with-bruno.js';
import { printSeedOnFailure, seededStream } from '../support/seeded-random.js';
import { runShared } from '../support/shared-run.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * A representative subset of the faulty receivers (the full matrix runs under newman in
 * faulty-receivers.test.ts): one per kind of faulty answer the Bruno glue must judge (a refusal of
 * v2, an acknowledged forgery, a refusal of some v3 bodies, a 500 on a redelivered or concurrent copy,
 * a redirect, a dropped connection), each compared with what newman reports against a fresh copy of
 * the same receiver. Bruno differs from newman only in the glue (how a request is read, signed, sent
 * and judged), not in the catalogue, so each fixture gets the cases that expose its fault plus their
 * genuine controls, named here: the verdicts on those are where the glue could go wrong.
 *
 * Each slot is its own copy of its fixture, on its own port (some faults depend on what a receiver
 * has already seen). All the slots of a sandbox go in ONE `bru run` (test/support/run-with-bruno.ts,
 * runWithBrunoShared: each `bru` start-up costs ~4 s of CPU), and all slots in one newman run
 * (test/support/shared-run.ts); each slot's verdicts are read from its own requests. Concurrency also
 * runs in the developer sandbox, whose timing differs.
 */
interface Slot {
  fixture: string;
  sandbox: BrunoSandbox;
  only: string[];
  /** One more case matching this glob, drawn from WXPAY_TEST_SEED (printed on failure). */
  drawFrom?: string;
}
const SLOTS: Slot[] = [
  {
    fixture: 'parses-xml-as-json',
    sandbox: 'safe',
    only: ['v2.pay.success', 'v2.refund.success', 'v2.forged.bad-sign'],
  },
  // Every forgery it acknowledges is judged by the same glue: one named, one drawn from the seed.
  {
    fixture: 'v3-no-signature-check',
    sandbox: 'safe',
    only: ['v3.pay.success', 'v3.forged.bad-signature'],
    drawFrom: 'v3.forged.*',
  },
  { fixture: 'drops-connection', sandbox: 'safe', only: ['v3.refund.success'] },
  { fixture: 'drops-connection', sandbox: 'safe', only: ['v2.refund.success'] },
  { fixture: 'not-idempotent', sandbox: 'safe', only: ['v2.pay.success', 'v2.redelivery.*'] },
  { fixture: 'reserialises-body', sandbox: 'safe', only: ['v3.pay.success', 'v3.robust.*'] },
  { fixture: 'redirects', sandbox: 'safe', only: ['v2.pay.success', 'v3.refund.success'] },
  { fixture: 'not-idempotent', sandbox: 'safe', only: ['v3.pay.success', 'v3.redelivery.*'] },
  { fixture: 'not-idempotent', sandbox: 'developer', only: ['v3.pay.success', 'v3.redelivery.*'] },
];
const SANDBOXES: BrunoSandbox[] = ['safe', 'developer'];

const slotName = (s: Slot): string => `${s.sandbox}: ${s.fixture} (${s.only.join(', ')})`;

/** The slots' cases, with the one drawn from the seed. */
function drawnSlots(): (Slot & { name: string })[] {
  const layout = demoConfig(testKeys(), 'http://127.0.0.1:0', '/nonexistent');
  const random = seededStream('bruno-faulty-receivers: drawn cases');
  return SLOTS.map((s) => {
    const name = slotName(s);
    if (!s.drawFrom) return { ...s, name };
    const left = selectCases(layout, { only: [s.drawFrom] }).filter((c) => !s.only.includes(c.id));
    return { ...s, name, only: [...s.only, random.pick(left).id] };
  });
}

interface Receivers {
  configs: Map<string, ResolvedConfig>;
  close(): Promise<void>;
}

/** A fresh copy of each slot's fixture, and the config that aims every URL at it. */
async function startReceivers(slots: readonly (Slot & { name: string })[]): Promise<Receivers> {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-test-'));
  const opts = receiverOptionsFromConfig(demoConfig(testKeys(), 'http://127.0.0.1:0', dir));
  const configs = new Map<string, ResolvedConfig>();
  const close = async (): Promise<void> => {
    await Promise.all(started.map((r) => r.close()));
    rmSync(dir, { recursive: true, force: true });
  };
  // All settled before any failure is thrown: close() then stops every receiver that started.
  const started: StartedReceiver[] = [];
  const settled = await Promise.allSettled(
    slots.map(async (slot) => {
      const receiver = await FAULTY_RECEIVERS[slot.fixture]!.start(opts);
      started.push(receiver);
      configs.set(slot.name, demoConfig(testKeys(), receiver.url, dir));
    }),
  );
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) {
    await close();
    throw (failed as PromiseRejectedResult).reason;
  }
  return { configs, close };
}

/** What the judge said of each slot's deliveries under newman: case ids with a failed delivery. */
async function failingUnderNewman(slots: readonly (Slot & { name: string })[]): Promise<Map<string, string[]>> {
  const receivers = await startReceivers(slots);
  try {
    const results = await runShared(
      slots.map((s) => ({ name: s.name, config: receivers.configs.get(s.name)!, only: s.only })),
    );
    return new Map(
      [...results].map(([name, { judgement }]) => [
        name,
        [...new Set(judgement.deliveries.filter((d) => d.verdict === 'fail').map((d) => d.caseId))].sort(),
      ]),
    );
  } finally {
    await receivers.close();
  }
}

/** One `bru run` per sandbox, each slot's requests read on their own. */
async function underBruno(slots: readonly (Slot & { name: string })[]): Promise<Map<string, BrunoRun>> {
  const runs = new Map<string, BrunoRun>();
  for (const sandbox of SANDBOXES) {
    const mine = slots.filter((s) => s.sandbox === sandbox);
    const receivers = await startReceivers(mine);
    try {
      const shared = await runWithBrunoShared(
        mine.map((s) => ({ name: s.name, config: receivers.configs.get(s.name)!, only: s.only })),
        { sandbox },
      );
      for (const [name, run] of shared) runs.set(name, run);
    } finally {
      await receivers.close();
    }
  }
  return runs;
}

describe('faulty receivers under Bruno fail the same cases as under newman', () => {
  const slots = drawnSlots();
  let newman: Map<string, string[]>;
  let bruno: Map<string, BrunoRun>;
  beforeAll(async () => {
    newman = await failingUnderNewman(slots);
    bruno = await underBruno(slots);
  }, 600_000);
  afterAll(() => bruno?.clear());

  for (const slot of slots) {
    it(slot.name, () => {
      printSeedOnFailure();
      const what = `${slot.fixture}: ${FAULTY_RECEIVERS[slot.fixture]!.description}`;
      const underNewman = newman.get(slot.name)!;
      expect(underNewman.length, `${what}: the fault shows on the cases chosen for it`).toBeGreaterThan(0);
      const run = bruno.get(slot.name)!;
      // Every case newman was sent (with the controls the selection adds) was sent by Bruno too.
      const cases = selectCases(demoConfig(testKeys(), 'http://127.0.0.1:0', '/nonexistent'), { only: slot.only });
      expect([...new Set(run.requests.map((r) => r.caseId))].sort()).toEqual(cases.map((c) => c.id).sort());
      expect(run.exitCode, 'a failing case fails the bru run').toBe(1);
      expect(run.failing, what).toEqual(underNewman);
    });
  }
});
