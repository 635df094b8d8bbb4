import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectCases } from '../../src/cases/select-cases.js';
import type { CaseDefinition } from '../../src/cases/types.js';
import { demoConfig } from '../../src/commands/demo.js';
import { runSuite } from '../../src/commands/run.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import { receiverOptionsFromConfig } from '../../src/receiver/from-config.js';
import type { StartedReceiver } from '../../src/receiver/types.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { FAULTY_RECEIVERS } from '../fixtures/faulty-receivers.js';
import { runWithBruno, type BrunoSandbox } from '../support/run-with-bruno.js';
import { seededRandom } from '../support/seeded-random.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * A representative subset of the faulty receivers (the full matrix runs under newman in
 * faulty-receivers.test.ts): one per kind of faulty answer the Bruno glue must judge (a refusal of
 * v2, an acknowledged forgery, a refusal of some v3 bodies, a 500 on a redelivered or concurrent copy,
 * a redirect, a dropped connection), each compared with what newman reports against a fresh copy of
 * the same receivers. Bruno differs from newman only in the glue (how a request is read, signed, sent
 * and judged), not in the catalogue, so each fixture gets the cases that expose its fault plus their
 * genuine controls, named here: the verdicts on those are where the glue could go wrong.
 *
 * A config has four notify URLs (v2 and v3, payment and refund), so one Bruno run serves several
 * fixtures at once, each behind the URLs its cases go to: four runs (one `bru` start-up each) instead
 * of one per fixture. Concurrency also runs in the developer sandbox, whose timing differs.
 */
type Url = 'v2.notifyUrl' | 'v2.refundNotifyUrl' | 'v3.notifyUrl' | 'v3.refundNotifyUrl';
interface Slot {
  fixture: string;
  urls: Url[];
  only: string[];
  /** One more case matching this glob, drawn from WXPAY_TEST_SEED (printed on failure). */
  drawFrom?: string;
}
const RUNS: { sandbox: BrunoSandbox; slots: Slot[] }[] = [
  {
    sandbox: 'safe',
    slots: [
      {
        fixture: 'parses-xml-as-json',
        urls: ['v2.notifyUrl', 'v2.refundNotifyUrl'],
        only: ['v2.pay.success', 'v2.refund.success', 'v2.forged.bad-sign'],
      },
      // Every forgery it acknowledges is judged by the same glue: one named, one drawn from the seed.
      {
        fixture: 'v3-no-signature-check',
        urls: ['v3.notifyUrl'],
        only: ['v3.pay.success', 'v3.forged.bad-signature'],
        drawFrom: 'v3.forged.*',
      },
      { fixture: 'drops-connection', urls: ['v3.refundNotifyUrl'], only: ['v3.refund.success'] },
    ],
  },
  {
    sandbox: 'safe',
    slots: [
      { fixture: 'not-idempotent', urls: ['v2.notifyUrl'], only: ['v2.pay.success', 'v2.redelivery.*'] },
      { fixture: 'drops-connection', urls: ['v2.refundNotifyUrl'], only: ['v2.refund.success'] },
      { fixture: 'reserialises-body', urls: ['v3.notifyUrl'], only: ['v3.pay.success', 'v3.robust.*'] },
    ],
  },
  {
    sandbox: 'safe',
    slots: [
      {
        fixture: 'redirects',
        urls: ['v2.notifyUrl', 'v3.refundNotifyUrl'],
        only: ['v2.pay.success', 'v3.refund.success'],
      },
      { fixture: 'not-idempotent', urls: ['v3.notifyUrl'], only: ['v3.pay.success', 'v3.redelivery.*'] },
    ],
  },
  {
    sandbox: 'developer',
    slots: [{ fixture: 'not-idempotent', urls: ['v3.notifyUrl'], only: ['v3.pay.success', 'v3.redelivery.*'] }],
  },
];

const urlOf = (c: CaseDefinition): Url => `${c.sendTo ?? c.version}.${c.target}`;

interface Receivers {
  config: ResolvedConfig;
  close(): Promise<void>;
}

/** Fresh copies of the run's fixtures (some faults depend on what a receiver has already seen), each behind its URLs. */
async function startReceivers(slots: readonly Slot[]): Promise<Receivers> {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-test-'));
  const opts = receiverOptionsFromConfig(demoConfig(testKeys(), 'http://127.0.0.1:0', dir));
  const started: StartedReceiver[] = [];
  const config = demoConfig(testKeys(), 'http://127.0.0.1:0', dir);
  try {
    for (const slot of slots) {
      const receiver = await FAULTY_RECEIVERS[slot.fixture]!.start(opts);
      started.push(receiver);
      for (const url of slot.urls) {
        const [version, field] = url.split('.') as ['v2' | 'v3', 'notifyUrl' | 'refundNotifyUrl'];
        config[version]![field] = receiver.url + new URL(config[version]![field]).pathname;
      }
    }
  } catch (error) {
    await Promise.all(started.map((r) => r.close()));
    throw error;
  }
  return {
    config,
    close: async () => {
      await Promise.all(started.map((r) => r.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What the judge said of each delivery under newman: case ids with a failed delivery. */
async function failingUnderNewman(slots: readonly Slot[], only: string[]): Promise<string[]> {
  const receivers = await startReceivers(slots);
  try {
    const io = memoryIO();
    const code = await runSuite(
      receivers.config,
      { format: 'json', reporters: [], reporterDir: '.', insecure: false, only },
      io,
      'test',
    );
    expect(code).toBe(1);
    const deliveries = (JSON.parse(io.stdout) as { deliveries: { caseId: string; verdict: string }[] }).deliveries;
    return [...new Set(deliveries.filter((d) => d.verdict === 'fail').map((d) => d.caseId))].sort();
  } finally {
    await receivers.close();
  }
}

describe('faulty receivers under Bruno fail the same cases as under newman', () => {
  for (const { sandbox, slots: planned } of RUNS) {
    const name = planned.map((s) => `${s.fixture} (${s.urls.join(', ')})`).join(' + ');
    it(`${sandbox}: ${name}`, async () => {
      const layout = demoConfig(testKeys(), 'http://127.0.0.1:0', '/nonexistent');
      const random = seededRandom();
      const slots = planned.map((s) => {
        if (!s.drawFrom) return s;
        const left = selectCases(layout, { only: [s.drawFrom] }).filter((c) => !s.only.includes(c.id));
        return { ...s, only: [...s.only, random.pick(left).id] };
      });
      const only = slots.flatMap((s) => s.only);
      // Each fixture's cases (with the controls the selection adds) go to its URLs only, and no case
      // belongs to two fixtures: a verdict is the fixture's alone.
      const casesOf = slots.map((s) => selectCases(layout, { only: s.only }));
      slots.forEach((s, i) => {
        for (const c of casesOf[i]!) expect(s.urls, `${c.id} goes to ${urlOf(c)}`).toContain(urlOf(c));
      });
      const ids = casesOf.flatMap((cases) => cases.map((c) => c.id));
      expect(new Set(ids).size, 'no case in two slots').toBe(ids.length);
      expect(
        selectCases(layout, { only })
          .map((c) => c.id)
          .sort(),
      ).toEqual([...ids].sort());

      const newman = await failingUnderNewman(slots, only);
      const receivers = await startReceivers(slots);
      let bruno: Awaited<ReturnType<typeof runWithBruno>>;
      try {
        bruno = await runWithBruno(receivers.config, { sandbox, only });
      } finally {
        await receivers.close();
      }
      expect(bruno.exitCode).toBe(1);
      slots.forEach((s, i) => {
        const mine = new Set(casesOf[i]!.map((c) => c.id));
        const underNewman = newman.filter((id) => mine.has(id));
        const what = `${s.fixture}: ${FAULTY_RECEIVERS[s.fixture]!.description}`;
        expect(underNewman.length, `${what}: the fault shows on the cases chosen for it`).toBeGreaterThan(0);
        expect(
          bruno.failing.filter((id) => mine.has(id)),
          what,
        ).toEqual(underNewman);
      });
      expect(bruno.failing).toEqual(newman);
    }, 300_000);
  }
});
