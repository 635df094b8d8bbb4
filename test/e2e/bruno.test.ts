import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectCases } from '../../src/cases/select-cases.js';
import type { CaseDefinition } from '../../src/cases/types.js';
import { demoConfig } from '../../src/commands/demo.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import { receiverOptionsFromConfig } from '../../src/receiver/from-config.js';
import type { StartedReceiver } from '../../src/receiver/types.js';
import { FAULTY_RECEIVERS } from '../fixtures/faulty-receivers.js';
import { runWithBruno, runWithBrunoShared, type BrunoRun, type BrunoSandbox } from '../support/run-with-bruno.js';
import { printSeedOnFailure, seededStream, type SeededRandom } from '../support/seeded-random.js';
import { runShared } from '../support/shared-run.js';
import { startSuite, testKeys } from '../support/suite-fixture.js';
import {
  COMMON,
  HEADER_CASES,
  headerNames,
  headerValue,
  isV3,
  startHeaderCapture,
  V3_ONLY,
  type Seen,
} from '../support/wechat-headers.js';

/**
 * The Bruno collection run the way a Bruno user runs it (`bru run -r --env-file …`) in both of
 * Bruno's sandboxes: safe (QuickJS, Bruno's default) and developer (Node vm); faulty receivers under
 * Bruno failing the same cases as under newman; and the headers Bruno sends.
 *
 * Each `bru` start-up costs ~4 s of CPU, more than a dozen requests, so each sandbox has ONE run
 * (test/support/run-with-bruno.ts, runWithBrunoShared): the glue cases against the reference
 * receiver, generated and run exactly as a user runs them (their requests read the URLs from the
 * environment), and beside them, each in a folder of its own with its URLs written out, the faulty
 * receivers of that sandbox, each on its own port, and in one sandbox a server recording the headers
 * a merchant receives. Every part's requests are read on their own, and each receiver sees only its
 * part's requests.
 */
const SANDBOXES: BrunoSandbox[] = ['safe', 'developer'];

// ── the glue, against the reference receiver ────────────────────────────────────────────────────
/*
 * Bruno runs the same signer and judge as Postman (test/unit/bruno-output.test.ts proves the shared
 * code and that every case becomes one .bru request in catalogue order); what is Bruno's own is the
 * glue: how a request reads its variables and sets its headers, and how a script sends more than one
 * copy. So each sandbox runs, every time, the cases whose glue differs from the rest, one case drawn
 * from WXPAY_TEST_SEED (printed on failure) for each catalogue folder they leave out, and two more
 * drawn from all the others: each run sends every kind of notification, and over runs every case
 * meets Bruno in both sandboxes.
 */
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

// ── faulty receivers: Bruno's verdicts against newman's ─────────────────────────────────────────
/*
 * A representative subset of the faulty receivers (the full matrix runs under newman in
 * faulty-receivers.test.ts): one per kind of faulty answer the Bruno glue must judge (a refusal of
 * v2, an acknowledged forgery, a refusal of some v3 bodies, a 500 on a redelivered or concurrent copy,
 * a redirect, a dropped connection), each compared with what newman reports against a fresh copy of
 * the same receiver (all slots in one newman run, test/support/shared-run.ts). Bruno differs from
 * newman only in the glue (how a request is read, signed, sent and judged), not in the catalogue, so
 * each fixture gets the cases that expose its fault plus their genuine controls, named here: the
 * verdicts on those are where the glue could go wrong. Each slot is its own copy of its fixture (some
 * faults depend on what a receiver has already seen). Concurrency runs in both sandboxes (their
 * timing differs); every other slot runs in a sandbox drawn from WXPAY_TEST_SEED (printed on
 * failure), so over runs each slot meets both, at half the requests in the safe sandbox, whose
 * QuickJS costs ~0.4 s of CPU per request more than the developer sandbox.
 */
interface Slot {
  fixture: string;
  /** Where the sandbox matters (concurrency: its timing differs); otherwise drawn from the seed. */
  sandbox?: BrunoSandbox;
  only: string[];
  /** One more case matching this glob, drawn from WXPAY_TEST_SEED (printed on failure). */
  drawFrom?: string;
}
const SLOTS: Slot[] = [
  {
    fixture: 'parses-xml-as-json',
    only: ['v2.pay.success', 'v2.refund.success', 'v2.forged.bad-sign'],
  },
  // Every forgery it acknowledges is judged by the same glue: one named, one drawn from the seed.
  {
    fixture: 'v3-no-signature-check',
    only: ['v3.pay.success', 'v3.forged.bad-signature'],
    drawFrom: 'v3.forged.*',
  },
  { fixture: 'drops-connection', only: ['v3.refund.success'] },
  { fixture: 'drops-connection', only: ['v2.refund.success'] },
  { fixture: 'not-idempotent', only: ['v2.pay.success', 'v2.redelivery.*'] },
  { fixture: 'reserialises-body', only: ['v3.pay.success', 'v3.robust.*'] },
  { fixture: 'redirects', only: ['v2.pay.success', 'v3.refund.success'] },
  { fixture: 'not-idempotent', sandbox: 'safe', only: ['v3.pay.success', 'v3.redelivery.*'] },
  { fixture: 'not-idempotent', sandbox: 'developer', only: ['v3.pay.success', 'v3.redelivery.*'] },
];
type DrawnSlot = Slot & { name: string; sandbox: BrunoSandbox };
const slotName = (s: Slot & { sandbox: BrunoSandbox }): string => `${s.sandbox}: ${s.fixture} (${s.only.join(', ')})`;

/** The slots' cases, with the one drawn from the seed, and their sandboxes. */
function drawnSlots(): DrawnSlot[] {
  const layout = demoConfig(testKeys(), 'http://127.0.0.1:0', '/nonexistent');
  const random = seededStream('bruno faulty receivers: drawn cases');
  const sandboxes = seededStream('bruno faulty receivers: sandboxes');
  return SLOTS.map((s) => {
    const sandbox = s.sandbox ?? sandboxes.pick(SANDBOXES);
    const only = s.drawFrom
      ? [...s.only, random.pick(selectCases(layout, { only: [s.drawFrom] }).filter((c) => !s.only.includes(c.id))).id]
      : s.only;
    return { ...s, sandbox, only, name: slotName({ ...s, sandbox }) };
  });
}

interface Receivers {
  configs: Map<string, ResolvedConfig>;
  close(): Promise<void>;
}

/** A fresh copy of each slot's fixture, and the config that aims every URL at it. */
async function startReceivers(slots: readonly DrawnSlot[]): Promise<Receivers> {
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
async function failingUnderNewman(slots: readonly DrawnSlot[]): Promise<Map<string, string[]>> {
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

// ── the headers a merchant receives ─────────────────────────────────────────────────────────────
/*
 * Bruno's client adds request-start-time (its own clock: the response time is read from it) and
 * Connection: keep-alive, and drops neither on request (@usebruno/cli src/utils/axios-instance.js);
 * the Accept-Encoding it adds is deleted by the glue. docs/bruno.md lists what remains. The client
 * is the same in both sandboxes; only the glue's req.deleteHeader runs in the sandbox. So each run
 * checks one sandbox, chosen by WXPAY_TEST_SEED (printed on failure), both over runs: its cases
 * (test/support/wechat-headers.ts) go to a server that records every request's headers, as one
 * more part of that sandbox's run. Newman and the Postman app's engine: wechat-headers.test.ts.
 */
const HEADERS_SANDBOX = seededStream('bruno: headers sandbox').pick(SANDBOXES);

/** What one sandbox's shared run showed. */
interface SandboxRun {
  /** The glue part: its cases (what generate sends for its --only), its requests, what the reference receiver logged. */
  glue: { all: CaseDefinition[]; cases: CaseDefinition[]; run: BrunoRun; log: { outcome: string }[] };
  /** Each faulty slot's requests. */
  slots: Map<string, BrunoRun>;
  /** In HEADERS_SANDBOX: the header cases' requests, and the headers each arrived with. */
  headers?: { run: BrunoRun; seen: Seen[] };
}

/** ONE `bru run` in `sandbox`: the glue part first, as a user runs it, then that sandbox's faulty slots. */
async function runSandbox(sandbox: BrunoSandbox, slots: readonly DrawnSlot[]): Promise<SandboxRun> {
  const suite = await startSuite();
  const capture = sandbox === HEADERS_SANDBOX ? await startHeaderCapture() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-test-'));
  try {
    const mine = slots.filter((s) => s.sandbox === sandbox);
    const receivers = await startReceivers(mine);
    try {
      const all = selectCases(suite.config);
      const only = sampleCases(all, seededStream(`bruno glue: ${sandbox}`)).map((c) => c.id);
      const shared = await runWithBrunoShared(
        [
          { name: 'glue', config: suite.config, only },
          ...mine.map((s) => ({ name: s.name, config: receivers.configs.get(s.name)!, only: s.only })),
          ...(capture
            ? [{ name: 'headers', config: demoConfig(testKeys(), capture.url, dir), only: HEADER_CASES }]
            : []),
        ],
        { sandbox },
      );
      const glue = {
        all,
        cases: selectCases(suite.config, { only }),
        run: shared.get('glue')!,
        log: [...suite.receiver.log],
      };
      const headers = capture ? { run: shared.get('headers')!, seen: [...capture.seen] } : undefined;
      shared.delete('glue');
      shared.delete('headers');
      return { glue, slots: shared, headers };
    } finally {
      await receivers.close();
    }
  } finally {
    await capture?.close();
    await suite.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the Bruno collection (generate --format bruno) under @usebruno/cli', () => {
  const slots = drawnSlots();
  let newman: Map<string, string[]>;
  const runs = new Map<BrunoSandbox, SandboxRun>();
  beforeAll(async () => {
    // The three runs at once: each part has receivers of its own, and bru runs in a process of its own.
    const [underNewman, ...sandboxes] = await Promise.all([
      failingUnderNewman(slots),
      ...SANDBOXES.map((sandbox) => runSandbox(sandbox, slots)),
    ]);
    newman = underNewman;
    SANDBOXES.forEach((sandbox, i) => runs.set(sandbox, sandboxes[i]!));
  }, 600_000);
  afterAll(() => runs.clear());

  for (const sandbox of SANDBOXES) {
    it(`${sandbox} sandbox: the glue cases and drawn cases of every folder pass against the reference receiver, every request judged`, () => {
      printSeedOnFailure();
      const { all, cases, run, log } = runs.get(sandbox)!.glue;
      expect(cases.map((c) => c.id)).toEqual(expect.arrayContaining(GLUE_CASES));
      expect(new Set(cases.map((c) => c.folder))).toEqual(new Set(all.map((c) => c.folder)));
      const failures = run.requests.flatMap((r) =>
        r.status !== 'pass'
          ? [`${r.caseId}: ${r.status} ${r.error}`]
          : r.tests.filter((t) => !t.pass).map((t) => `${r.caseId}: ${t.name}: ${t.error}`),
      );
      expect(failures).toEqual([]);
      // bru's exit code is the whole run's, failing slots included: test/e2e/byte-faithful-values.test.ts
      // shows bru exiting 0 when every case passes, the slots below exiting 1 when one fails.
      // Same cases, same ids, same copies as the Postman collection, in catalogue order.
      const expected = cases.flatMap((c) => Array.from({ length: c.copies ?? 1 }, (_, i) => `${c.id} #${i + 1}`));
      expect(run.requests.map((r) => `${r.caseId} #${r.copy}`)).toEqual(expected);
      for (const r of run.requests) expect(r.tests.length, r.caseId).toBeGreaterThanOrEqual(2);
      const concurrent = cases.find((c) => c.concurrent)!;
      expect(
        run.requests.find((r) => r.caseId === concurrent.id)!.tests.filter((t) => t.name.startsWith('concurrent copy')),
      ).toHaveLength(2 * concurrent.concurrent!);
      // Every delivery reached the receiver (and nothing of the slots beside it), and each genuine one
      // verified over the bytes sent.
      const deliveries = cases.reduce((n, c) => n + (c.copies ?? 1) + (c.concurrent ?? 0), 0);
      expect(log).toHaveLength(deliveries);
      expect(log.filter((l) => l.outcome === 'ack')).toHaveLength(
        cases.reduce((n, c) => n + (c.expect === 'ack' ? (c.copies ?? 1) + (c.concurrent ?? 0) : 0), 0),
      );
    });
  }

  it(`${HEADERS_SANDBOX} sandbox (chosen by the seed): WeChat's header set plus only request-start-time and Connection`, () => {
    printSeedOnFailure();
    const { run, seen } = runs.get(HEADERS_SANDBOX)!.headers!;
    expect(run.failing).toEqual([]);
    expect(seen.length).toBe(HEADER_CASES.length);
    for (const s of seen) {
      expect(headerNames(s), s.path).toEqual(
        [...COMMON, ...(isV3(s) ? V3_ONLY : []), 'connection', 'request-start-time'].sort(),
      );
      expect(headerValue(s, 'connection')).toBe('keep-alive');
      expect(headerValue(s, 'request-start-time')).toMatch(/^\d{13}$/);
      expect(headerValue(s, 'user-agent')).toBe('Mozilla/4.0');
      expect(headerValue(s, 'accept')).toBe('*/*');
    }
  });

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

  describe('faulty receivers under Bruno fail the same cases as under newman', () => {
    for (const slot of slots) {
      it(slot.name, () => {
        printSeedOnFailure();
        const what = `${slot.fixture}: ${FAULTY_RECEIVERS[slot.fixture]!.description}`;
        const underNewman = newman.get(slot.name)!;
        expect(underNewman.length, `${what}: the fault shows on the cases chosen for it`).toBeGreaterThan(0);
        const run = runs.get(slot.sandbox)!.slots.get(slot.name)!;
        // Every case newman was sent (with the controls the selection adds) was sent by Bruno too.
        const cases = selectCases(demoConfig(testKeys(), 'http://127.0.0.1:0', '/nonexistent'), { only: slot.only });
        expect([...new Set(run.requests.map((r) => r.caseId))].sort()).toEqual(cases.map((c) => c.id).sort());
        expect(run.exitCode, 'a failing case fails the bru run').toBe(1);
        expect(run.failing, what).toEqual(underNewman);
      });
    }
  });
});
