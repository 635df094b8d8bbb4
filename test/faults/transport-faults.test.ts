import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HINTS } from '../../src/judge/causes.js';
import { selectCases, selectCasesWithControls } from '../../src/cases/select-cases.js';
import { CATALOGUE } from '../../src/cases/catalogue.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { runSuite } from '../../src/commands/run.js';
import { ACK_TIME_LIMIT_MS, V2_ACK_XML } from '../../src/protocol/constants.js';
import type { StartedReceiver } from '../../src/receiver/types.js';
import { summarizeCases } from '../../src/judge/case-verdicts.js';
import { runCollection } from '../../src/runner/run-collection.js';
import { startSuite, type SuiteFixture } from '../support/suite-fixture.js';
import { LOADED_MACHINE_SLACK_MS } from '../support/deadlines.js';
import { seededRandom } from '../support/seeded-random.js';

/**
 * Receivers that misbehave below HTTP: nothing listening, a dropped connection, no answer, a slow
 * answer, bytes that are not HTTP, an answer cut short. Every selected case must still end with a
 * verdict, a transport cause and its hint; the run must resolve (exit code 1), within its bounds,
 * and leave no unhandled promise rejection behind.
 */

const PAY = ['v2.pay.success', 'v3.pay.success'];

/**
 * A fault below HTTP meets every case the same way (the request never gets an answer), so `refused`
 * runs the whole suite and the other whole-suite faults run a seeded sample of it: the cases that
 * send more than one request (sequential and concurrent redelivery, where a failed copy must still
 * leave one verdict) always, and 6 others drawn from WXPAY_TEST_SEED (printed when a test fails),
 * so over runs every case meets every fault.
 */
function suiteSample(): string[] {
  const random = seededRandom();
  const multi = CATALOGUE.filter((c) => (c.copies ?? 1) > 1 || (c.concurrent ?? 0) > 0).map((c) => c.id);
  const others = CATALOGUE.map((c) => c.id).filter((id) => !multi.includes(id));
  const sample: string[] = [];
  while (sample.length < 6) sample.push(others.splice(random.int(others.length), 1)[0]!);
  return [...multi, ...sample];
}
const CAUSES = Object.keys(HINTS);

// ── raw misbehaving servers on 127.0.0.1:0 ──────────────────────────────────────────────────────
interface FaultServer extends StartedReceiver {
  /** Connections accepted so far. */
  accepted(): number;
}

/** Listens on 127.0.0.1:0 and tracks sockets, so close() also ends the ones that hang. */
async function listenTracked(server: Server): Promise<FaultServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (socket: Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined); // the client may go away first: that is not this test's subject
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log: [],
    accepted: () => accepted,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      })),
  };
}

/** A raw TCP server: `onSocket` decides what (if anything) goes back. */
const tcpServer = (onSocket: (socket: Socket) => void) => async (): Promise<FaultServer> =>
  listenTracked(createTcpServer(onSocket));

/** An HTTP server that reads the whole request first, then hands the exchange to `onRequest`. */
const httpServer = (onRequest: (req: IncomingMessage, res: ServerResponse) => void) => async (): Promise<FaultServer> =>
  listenTracked(
    createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => onRequest(req, res));
    }),
  );

const SERVERS = {
  /** A port that was bound and released: nothing listens there. */
  refused: async (): Promise<FaultServer> => {
    const probe = createTcpServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return { url: `http://127.0.0.1:${port}`, port, log: [], accepted: () => 0, close: async () => undefined };
  },
  /** Closes the connection as soon as the request starts arriving (a crashed worker). */
  reset: tcpServer((socket) => socket.once('data', () => socket.destroy())),
  /** The same with a TCP RST instead of a FIN (a killed process, a proxy giving up). */
  'reset-rst': tcpServer((socket) => socket.once('data', () => socket.resetAndDestroy())),
  /** Accepts and never answers. */
  hangs: tcpServer(() => undefined),
  /** Answers a correct acknowledgement, after 300 ms (well under WeChat's 5 s). */
  slow: httpServer((req, res) => {
    setTimeout(() => {
      if (req.url?.includes('/v2/')) res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' }).end(V2_ACK_XML);
      else res.writeHead(204).end();
    }, 300);
  }),
  /** A status line, then bytes that are no HTTP header. */
  garbage: httpServer((req) => {
    req.socket.end(
      Buffer.concat([
        Buffer.from('HTTP/1.1 200 OK\r\n'),
        Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x7f, 0x0d, 0x0a, 0x0d, 0x0a]),
      ]),
    );
  }),
  /** Not HTTP at all (notify_url pointing at an SSH port). */
  'not-http': httpServer((req) => void req.socket.end('SSH-2.0-OpenSSH_9.6\r\n')),
  /** Promises 100 bytes of body, sends 10, and closes. */
  'closes-mid-body': httpServer((req) => {
    const socket = req.socket;
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100\r\n\r\n<xml><ret', () =>
      socket.destroy(),
    );
  }),
} satisfies Record<string, () => Promise<FaultServer>>;

// ── unhandled rejections, per test ───────────────────────────────────────────────────────────────
const rejections: unknown[] = [];
const onRejection = (reason: unknown): void => void rejections.push(reason);
beforeAll(() => void process.on('unhandledRejection', onRejection));
afterAll(() => void process.off('unhandledRejection', onRejection));
beforeEach(() => void (rejections.length = 0));

/** Lets late rejections surface (they are reported a tick or more after the promise settles). */
async function expectNoUnhandledRejection(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(rejections).toEqual([]);
}

// ── running the suite against them ───────────────────────────────────────────────────────────────
let suite: SuiteFixture | undefined;
let server: FaultServer | undefined;
afterEach(async () => {
  await suite?.close();
  suite = undefined;
  server = undefined;
});

async function start(name: keyof typeof SERVERS): Promise<SuiteFixture> {
  suite = await startSuite({ start: async () => (server = await SERVERS[name]()) });
  return suite;
}

interface CaseReport {
  caseId: string;
  verdict: string;
  cause: string;
  hint: string;
  error?: string;
  statuses: number[];
  maxTimeMs?: number;
}

async function runAgainst(name: keyof typeof SERVERS, only?: string[]) {
  const { config } = await start(name);
  const io = memoryIO();
  const started = Date.now();
  const code = await runSuite(
    config,
    { format: 'json', reporters: [], reporterDir: '.', insecure: false, only },
    io,
    'test',
  );
  const elapsedMs = Date.now() - started;
  const report = JSON.parse(io.stdout) as { aborted: boolean; cases: CaseReport[]; deliveries: { caseId: string }[] };
  // The cases the run sends: those asked for, and the genuine control of each forged one.
  const expected = selectCasesWithControls(config, { only }).cases.map((c) => c.id);
  return { code, report, elapsedMs, expected };
}

/** Every selected case ended, failed with `cause` (a judge/causes.ts cause) and that cause's hint. */
function expectEveryCaseFailed(report: { cases: CaseReport[] }, expected: string[], cause: keyof typeof HINTS): void {
  expect(report.cases.map((c) => c.caseId)).toEqual(expected);
  for (const c of report.cases) {
    if (c.caseId.includes('.forged.')) {
      // Its genuine control got no answer either: a forged case then proves nothing.
      expect(`${c.caseId}: ${c.verdict}`).toBe(`${c.caseId}: inconclusive`);
      expect(c.hint).toMatch(/^could not judge: the genuine notification/);
      expect(c.statuses).toEqual([]);
      continue;
    }
    expect(`${c.caseId}: ${c.verdict} ${c.cause}`).toBe(`${c.caseId}: fail ${cause}`);
    expect(CAUSES).toContain(c.cause);
    expect(c.hint).toBe(HINTS[cause]);
    expect(c.statuses).toEqual([]); // no HTTP answer was judged
    expect(c.error).toBeTruthy();
  }
}

describe('transport faults: every case ends with a verdict, a transport cause and a hint', () => {
  it('refused: nothing listens at notify_url → conn-refused on every case', async () => {
    const { code, report, expected } = await runAgainst('refused');
    expect(code).toBe(1);
    expect(expected.length).toBeGreaterThan(20);
    expectEveryCaseFailed(report, expected, 'conn-refused');
    expect(report.cases[0]!.error).toMatch(/ECONNREFUSED/);
    await expectNoUnhandledRejection();
  }, 60_000);

  it('reset: the socket is destroyed when the request arrives → conn-reset on every case (a sample)', async () => {
    const { code, report, expected } = await runAgainst('reset', suiteSample());
    expect(code).toBe(1);
    expectEveryCaseFailed(report, expected, 'conn-reset');
    expect(server!.accepted()).toBeGreaterThanOrEqual(expected.length);
    await expectNoUnhandledRejection();
  }, 60_000);

  it('reset with a TCP RST → conn-reset', async () => {
    const { code, report, expected } = await runAgainst('reset-rst', PAY);
    expect(code).toBe(1);
    expectEveryCaseFailed(report, expected, 'conn-reset');
    await expectNoUnhandledRejection();
  }, 60_000);

  it('hangs: the default request timeout (ACK_TIME_LIMIT_MS + 1.5 s) ends the case, far inside the run bound', async () => {
    const { code, report, elapsedMs, expected } = await runAgainst('hangs', ['v3.pay.success']);
    expect(code).toBe(1);
    expectEveryCaseFailed(report, expected, 'timeout');
    expect(report.cases[0]!.error).toMatch(/TIMEDOUT/);
    // One case: the request timeout, not the whole-run bound ((1 × 8 + 60) s), ended it.
    expect(elapsedMs).toBeGreaterThanOrEqual(ACK_TIME_LIMIT_MS + 1500 - 100);
    expect(elapsedMs).toBeLessThan(ACK_TIME_LIMIT_MS + 1500 + LOADED_MACHINE_SLACK_MS);
    expect(server!.accepted()).toBe(1);
    await expectNoUnhandledRejection();
  }, 30_000);

  it('hangs: a shorter request timeout (runCollection) ends each case in turn and the run goes on', async () => {
    const { config } = await start('hangs');
    const cases = selectCases(config, { only: PAY });
    const started = Date.now();
    const run = await runCollection({
      collection: buildCollection(config, cases),
      environment: buildEnvironment(config, true),
      timeoutRequestMs: 600,
    });
    const elapsedMs = Date.now() - started;
    expect(run.aborted).toBe(false);
    expectEveryCaseFailed({ cases: summarizeCases(run.deliveries) }, PAY, 'timeout');
    expect(server!.accepted()).toBe(2);
    // Two request deadlines, far inside the run bound ((2 × 8 + 60) s) a hang would reach.
    expect(elapsedMs).toBeLessThan(2 * 600 + LOADED_MACHINE_SLACK_MS);
    await expectNoUnhandledRejection();
  }, 30_000);

  it('hangs: the whole-run bound ends the run with the partial result (aborted), not a rejection', async () => {
    const { config } = await start('hangs');
    const cases = selectCases(config, { only: PAY });
    const seen: string[] = [];
    const started = Date.now();
    const run = await runCollection({
      collection: buildCollection(config, cases),
      environment: buildEnvironment(config, true),
      timeoutRequestMs: 1_000,
      timeoutMs: 1_600,
      onDelivery: (d) => void seen.push(d.caseId),
    });
    const elapsedMs = Date.now() - started;
    expect(run.aborted).toBe(true);
    expect(elapsedMs).toBeLessThan(1_600 + LOADED_MACHINE_SLACK_MS);
    // On a quiet machine the first case times out on its request (1 s) and the second is in flight
    // when the run runs out (1.6 s). On a loaded one Newman's start-up and the scripts eat into the
    // 1.6 s: the run may run out during the first case, or between the two (the second's script
    // still signing). Every case judged is a timeout; the one in flight when the run ran out names
    // the run's time limit, and a case whose request never left is not judged at all.
    const judged = run.deliveries.map((d) => d.caseId);
    expect(judged.length).toBeGreaterThanOrEqual(1);
    expect(judged).toEqual(PAY.slice(0, judged.length));
    expect(run.deliveries.map((d) => [d.verdict, d.cause])).toEqual(judged.map(() => ['fail', 'timeout']));
    const last = run.deliveries.at(-1)!;
    if (/time limit/.test(last.error ?? '')) {
      if (judged.length === 2) expect(run.deliveries[0]!.error).not.toMatch(/time limit/);
    } else {
      // Ran out between two cases: the last judged one ended on its own request deadline, and no
      // request of the next reached the receiver.
      expect(last.error).toMatch(/no complete answer within 1000 ms/);
      expect(judged.length).toBeLessThan(PAY.length);
      expect(server!.accepted()).toBe(judged.length);
    }
    expect(run.deliveries.every((d) => d.hint === HINTS.timeout)).toBe(true);
    expect(seen).toEqual(judged);
    // The request still in flight ends later: it must not change the result handed back.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(run.deliveries.map((d) => d.caseId)).toEqual(judged);
    expect(seen).toEqual(judged);
    await expectNoUnhandledRejection();
  }, 30_000);

  it('slow but under the limit: a correct acknowledgement after 300 ms passes', async () => {
    const { code, report, expected } = await runAgainst('slow', PAY);
    expect(code).toBe(0);
    expect(report.cases.map((c) => [c.caseId, c.verdict, c.cause])).toEqual(expected.map((id) => [id, 'pass', 'ok']));
    for (const c of report.cases) {
      expect(c.maxTimeMs).toBeGreaterThanOrEqual(290);
      expect(c.maxTimeMs).toBeLessThan(ACK_TIME_LIMIT_MS);
    }
    await expectNoUnhandledRejection();
  }, 30_000);

  it('garbage: a status line followed by invalid header bytes → bad-http (parse error) on every case (a sample)', async () => {
    const { code, report, expected } = await runAgainst('garbage', suiteSample());
    expect(code).toBe(1);
    expectEveryCaseFailed(report, expected, 'bad-http');
    expect(report.cases[0]!.error).toMatch(/HPE_|Parse Error/);
    await expectNoUnhandledRejection();
  }, 60_000);

  it('not HTTP at all → bad-http (parse error)', async () => {
    const { code, report, expected } = await runAgainst('not-http', PAY);
    expect(code).toBe(1);
    expectEveryCaseFailed(report, expected, 'bad-http');
    expect(report.cases[0]!.error).toMatch(/HPE_|Parse Error/);
    await expectNoUnhandledRejection();
  }, 30_000);

  it('closes mid-body (Content-Length 100, 10 bytes sent) → conn-reset on every case (a sample), never a judged truncated body', async () => {
    const { code, report, expected } = await runAgainst('closes-mid-body', suiteSample());
    expect(code).toBe(1);
    expectEveryCaseFailed(report, expected, 'conn-reset');
    expect(report.cases[0]!.error).toMatch(/ECONNRESET|aborted/);
    await expectNoUnhandledRejection();
  }, 60_000);
});
