import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/types.js';
import { V3_EVENTS, type V3EventType } from '../../src/protocol/constants.js';
import { parseFlatXml } from '../../src/protocol/v2/flat-xml.js';
import { MAX_BODY_BYTES, startReceiver, type VerifiedNotification } from '../../src/receiver/index.js';
import { signedV2Xml, v3Envelope, v3SignedHeaders } from '../support/build-notifications.js';
import { startSuite, type SuiteFixture } from '../support/suite-fixture.js';
import { LOADED_MACHINE_SLACK_MS } from '../support/deadlines.js';

/**
 * The reference receiver (`serve`) facing malformed requests: each gets the documented FAIL answer
 * for its path's version (v2: XML return_code FAIL; v3: 4xx JSON {"code":"FAIL"}), and a genuine
 * notification right after it is still acknowledged. Then a bounded loopback load test.
 */

// ── genuine notifications, built with src/protocol for the suite's config ────────────────────────
interface Delivery {
  path: string;
  method?: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

const pathOf = (url: string): string => new URL(url).pathname;
let serial = 0;
const uniqueId = (prefix: string): string => `${prefix}${Date.now()}${String(++serial).padStart(6, '0')}`;

function v2Pay(config: ResolvedConfig, transactionId = uniqueId('42000')): Delivery {
  const v2 = config.v2!;
  const fields: Record<string, string> = {
    appid: config.appid,
    mch_id: config.mchid,
    nonce_str: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    trade_type: 'JSAPI',
    bank_type: 'OTHERS',
    total_fee: '1',
    fee_type: 'CNY',
    cash_fee: '1',
    transaction_id: transactionId,
    out_trade_no: `T${transactionId}`,
    time_end: '20261127120000',
    sign_type: v2.signType,
  };
  return {
    path: pathOf(v2.notifyUrl),
    headers: { 'Content-Type': 'text/xml' },
    body: signedV2Xml(fields, v2.apiKey, v2.signType),
  };
}

function v3Signed(config: ResolvedConfig, path: string, body: string, contentType = 'application/json'): Delivery {
  const v3 = config.v3!;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = 'fdasflkja484fdasflkja484';
  return {
    path,
    headers: v3SignedHeaders(body, {
      timestamp,
      nonce,
      privateKey: v3.platform!.privateKeyPem,
      serial: v3.platform!.serial,
      contentType,
    }),
    body,
  };
}

function v3Notify(
  config: ResolvedConfig,
  { id = uniqueId('EV-'), event = 'TRANSACTION.SUCCESS' as V3EventType, contentType = 'application/json' } = {},
): Delivery {
  const v3 = config.v3!;
  const refund = V3_EVENTS[event].originalType === 'refund';
  const plain = refund
    ? {
        mchid: config.mchid,
        out_trade_no: 'T1',
        transaction_id: '42000',
        out_refund_no: `R${id}`,
        refund_id: '50000',
        refund_status: event.split('.')[1],
        amount: { total: 1, refund: 1, payer_total: 1, payer_refund: 1 },
      }
    : {
        mchid: config.mchid,
        appid: config.appid,
        out_trade_no: `T${id}`,
        transaction_id: `42000${id}`,
        trade_type: 'JSAPI',
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
        amount: { total: 1, payer_total: 1, currency: 'CNY', payer_currency: 'CNY' },
      };
  const envelope = v3Envelope({
    id,
    createTime: '2026-11-27T12:00:01+08:00',
    event,
    plaintext: JSON.stringify(plain),
    apiV3Key: v3.apiV3Key,
    resourceNonce: 'Ba9hc2Zmb2Fq',
  });
  return v3Signed(config, pathOf(refund ? v3.refundNotifyUrl : v3.notifyUrl), JSON.stringify(envelope), contentType);
}

// ── HTTP on loopback ──────────────────────────────────────────────────────────────────────────────
interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(baseUrl: string, d: Delivery, agent?: Agent, timeoutMs = 10_000): Promise<Answer> {
  const url = new URL(d.path, baseUrl);
  if (url.hostname !== '127.0.0.1') throw new Error(`refusing to send anywhere but 127.0.0.1: ${url.href}`);
  return new Promise((resolve, reject) => {
    const body = typeof d.body === 'string' ? Buffer.from(d.body, 'utf8') : d.body;
    const method = d.method ?? 'POST';
    const headers: Record<string, string | number> = { ...d.headers };
    if (method !== 'GET') headers['Content-Length'] = body.length;
    const req = httpRequest(url, { method, headers, agent: agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : body);
  });
}

/** A socket to the receiver, destroyed in afterEach whatever happens. */
const rawSockets = new Set<Socket>();
afterEach(() => {
  for (const s of rawSockets) s.destroy();
  rawSockets.clear();
});
function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    rawSockets.add(socket);
    socket.on('error', reject);
    socket.on('close', () => rawSockets.delete(socket));
  });
}

// ── the documented FAIL answers ───────────────────────────────────────────────────────────────────
function expectV2Fail(a: Answer, status = 200): void {
  expect(a.status).toBe(status);
  expect(a.headers['content-type']).toMatch(/xml/);
  const message = parseFlatXml(a.body);
  expect(message.root).toBe('xml');
  expect(message.fields.return_code).toBe('FAIL');
  expect(message.fields.return_msg).toBeTruthy();
}

function expectV3Fail(a: Answer, status: number): void {
  expect(a.status).toBe(status);
  expect(a.status).toBeGreaterThanOrEqual(400);
  expect(a.status).toBeLessThan(500);
  expect(a.headers['content-type']).toMatch(/application\/json/);
  const body = JSON.parse(a.body) as { code: unknown; message: unknown };
  expect(body.code).toBe('FAIL');
  expect(typeof body.message === 'string' && body.message.length > 0).toBe(true);
}

const expectV2Ack = (a: Answer): void => {
  expect(a.status).toBe(200);
  expect(parseFlatXml(a.body).fields.return_code).toBe('SUCCESS');
};

// ── malformed requests ────────────────────────────────────────────────────────────────────────────
describe('reference receiver: malformed requests get the FAIL answer of their version, and it keeps serving', () => {
  let suite: SuiteFixture;
  let config: ResolvedConfig;
  let v2Path: string;
  let v2RefundPath: string;
  let v3Path: string;
  let v3RefundPath: string;
  beforeAll(async () => {
    suite = await startSuite();
    config = suite.config;
    v2Path = pathOf(config.v2!.notifyUrl);
    v2RefundPath = pathOf(config.v2!.refundNotifyUrl);
    v3Path = pathOf(config.v3!.notifyUrl);
    v3RefundPath = pathOf(config.v3!.refundNotifyUrl);
  }, 60_000);
  afterAll(async () => {
    await suite?.close();
  });

  /** A genuine v2 and v3 notification, each with a fresh id, are both still acknowledged. */
  async function expectStillServing(): Promise<void> {
    expectV2Ack(await send(suite.receiver.url, v2Pay(config)));
    expect((await send(suite.receiver.url, v3Notify(config))).status).toBe(204);
  }

  it('acknowledges genuine notifications to begin with', async () => {
    await expectStillServing();
    expect((await send(suite.receiver.url, v3Notify(config, { event: 'REFUND.SUCCESS' }))).status).toBe(204);
  });

  const XML = { 'Content-Type': 'text/xml' };
  const JSON_TYPE = { 'Content-Type': 'application/json' };
  const invalidUtf8 = Buffer.from([
    0x3c, 0x78, 0x6d, 0x6c, 0x3e, 0xff, 0xfe, 0xc3, 0x28, 0x3c, 0x2f, 0x78, 0x6d, 0x6c, 0x3e,
  ]);
  const lol = `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]><xml><return_code>&f;&f;&f;&f;&f;&f;</return_code></xml>`;

  type Case = [name: string, build: () => Delivery, version: 'v2' | 'v3', status: number];
  const CASES: Case[] = [
    // v2 paths: WeChat's documented refusal is 200 + <xml><return_code>FAIL</return_code>…; HTTP-level errors keep their status.
    [
      'v2: malformed XML',
      () => ({ path: v2Path, headers: XML, body: '<xml><return_code>SUCCESS</return_code><sign>AB' }),
      'v2',
      200,
    ],
    [
      'v2: JSON instead of XML',
      () => ({ path: v2Path, headers: JSON_TYPE, body: '{"return_code":"SUCCESS","transaction_id":"1"}' }),
      'v2',
      200,
    ],
    [
      'v2: XML with the wrong root',
      () => ({ path: v2Path, headers: XML, body: '<root><return_code>SUCCESS</return_code></root>' }),
      'v2',
      200,
    ],
    [
      'v2: two root elements',
      () => ({ path: v2Path, headers: XML, body: '<xml><a>1</a></xml><xml><a>2</a></xml>' }),
      'v2',
      200,
    ],
    [
      'v2: an external entity (XXE)',
      () => ({
        path: v2Path,
        headers: XML,
        body: '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><a>&x;</a></xml>',
      }),
      'v2',
      200,
    ],
    ['v2: nested entities (billion laughs)', () => ({ path: v2Path, headers: XML, body: lol }), 'v2', 200],
    [
      'v2: a 2 MiB body',
      () => ({ path: v2Path, headers: XML, body: `<xml><a>${'x'.repeat(2 * 1024 * 1024)}</a></xml>` }),
      'v2',
      413,
    ],
    [
      'v2: wrong content type (form-encoded)',
      () => ({
        path: v2Path,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'return_code=SUCCESS&sign=ABC',
      }),
      'v2',
      200,
    ],
    ['v2: invalid UTF-8 bytes', () => ({ path: v2Path, headers: XML, body: invalidUtf8 }), 'v2', 400],
    ['v2: an empty body', () => ({ path: v2Path, headers: XML, body: '' }), 'v2', 200],
    ['v2: no headers at all but the request line', () => ({ path: v2Path, headers: {}, body: '' }), 'v2', 200],
    [
      'v2 refund: req_info that is not base64',
      () => ({
        path: v2RefundPath,
        headers: XML,
        body: '<xml><return_code>SUCCESS</return_code><req_info>%%% not base64 %%%</req_info></xml>',
      }),
      'v2',
      200,
    ],
    ['v2: a GET', () => ({ path: v2Path, method: 'GET', headers: {}, body: '' }), 'v2', 405],
    // v3 paths: 4xx + {"code":"FAIL","message":…}.
    ['v3: missing Wechatpay-* headers', () => ({ ...v3Notify(config), headers: JSON_TYPE }), 'v3', 401],
    ['v3: a signed body that is not JSON', () => v3Signed(config, v3Path, 'this is not JSON'), 'v3', 400],
    [
      'v3: an unsigned body that is not JSON',
      () => ({ path: v3Path, headers: JSON_TYPE, body: '{"id": "unterminated' }),
      'v3',
      401,
    ],
    ['v3: signed JSON that is not an envelope', () => v3Signed(config, v3Path, '[1,2,3]'), 'v3', 400],
    ['v3: a 2 MiB body', () => ({ ...v3Notify(config), body: `{"id":"${'x'.repeat(2 * 1024 * 1024)}"}` }), 'v3', 413],
    [
      'v3: wrong content type (form-encoded)',
      () => ({
        path: v3Path,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'id=1&resource=x',
      }),
      'v3',
      401,
    ],
    [
      'v3 refund: a JSON body labelled text/xml',
      () => ({ path: v3RefundPath, headers: XML, body: '{"id":"EV-1","resource":{}}' }),
      'v3',
      401,
    ],
    ['v3: invalid UTF-8 bytes', () => ({ ...v3Notify(config), body: invalidUtf8 }), 'v3', 400],
    ['v3: an empty body', () => ({ path: v3Path, headers: JSON_TYPE, body: '' }), 'v3', 401],
    ['v3: a GET', () => ({ path: v3Path, method: 'GET', headers: {}, body: '' }), 'v3', 405],
  ];

  it.each(CASES)(
    '%s',
    async (_name, build, version, status) => {
      const answer = await send(suite.receiver.url, build());
      if (version === 'v2') expectV2Fail(answer, status);
      else expectV3Fail(answer, status);
      if (status === 405) expect(answer.headers.allow).toBe('POST');
      expect(answer.body).not.toContain('root:'); // nothing from /etc/passwd, whatever was asked
      await expectStillServing();
    },
    20_000,
  );

  it('v3 refund: a genuine notification labelled text/xml is still verified as v3 and acknowledged', async () => {
    const answer = await send(
      suite.receiver.url,
      v3Notify(config, { event: 'REFUND.SUCCESS', contentType: 'text/xml' }),
    );
    expect(answer.status).toBe(204);
  });

  it('a request aborted mid-body does not crash it or leak an answer', async () => {
    for (const [path, size] of [
      [v2Path, 1000],
      [v3Path, 1000],
      [v3Path, 2 * MAX_BODY_BYTES],
    ] as const) {
      const socket = await rawSocket(suite.receiver.port);
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
      );
      socket.write(size > MAX_BODY_BYTES ? Buffer.alloc(MAX_BODY_BYTES + 4096, 0x61) : '{"id":"EV-');
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.destroy();
      expect(received).toBe('');
      await expectStillServing();
    }
  });

  it('slowloris: unfinished headers and an unfinished body do not block other requests', async () => {
    const slow: Socket[] = [];
    for (let i = 0; i < 10; i++) {
      const socket = await rawSocket(suite.receiver.port);
      socket.on('data', () => undefined);
      // Half of them never finish the headers; the others promise a body they never send.
      socket.write(
        i % 2 === 0
          ? `POST ${v3Path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `
          : `POST ${v2Path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n<xml>`,
      );
      slow.push(socket);
    }
    const drip = setInterval(() => slow.forEach((s, i) => i % 2 === 0 && s.write('a')), 100);
    try {
      const started = Date.now();
      for (let i = 0; i < 5; i++) await expectStillServing();
      // The slow sockets never finish: a receiver they blocked would not answer at all.
      expect(Date.now() - started).toBeLessThan(LOADED_MACHINE_SLACK_MS);
      expect(slow.every((s) => !s.destroyed)).toBe(true); // they were still open the whole time
    } finally {
      clearInterval(drip);
    }
  });

  it('raw garbage instead of HTTP is answered 400 and the connection closed', async () => {
    const socket = await rawSocket(suite.receiver.port);
    const answer = await new Promise<string>((resolve) => {
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString('latin1'))).on('close', () => resolve(data));
      socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03])); // a TLS ClientHello start
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await expectStillServing();
  });

  it('logged every refusal as a rejection and every genuine delivery as an acknowledgement', () => {
    const log = suite.receiver.log;
    expect(log.filter((e) => e.outcome === 'ack').every((e) => e.status === 200 || e.status === 204)).toBe(true);
    expect(log.filter((e) => e.outcome === 'reject').every((e) => e.status >= 200 && e.reason)).toBe(true);
    expect(log.filter((e) => e.outcome === 'reject').length).toBeGreaterThanOrEqual(CASES.length - 2 - 1); // GETs are not notifications
  });
});

describe('reference receiver: close() with stuck clients', () => {
  it('returns promptly while a slowloris client and an unfinished body are open', async () => {
    const suite = await startSuite();
    try {
      const a = await rawSocket(suite.receiver.port);
      a.write(`POST ${pathOf(suite.config.v3!.notifyUrl)} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `);
      const b = await rawSocket(suite.receiver.port);
      b.write(`POST ${pathOf(suite.config.v3!.notifyUrl)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      await suite.receiver.close();
      // The two requests never finish: a close() that waited for them would not return at all.
      expect(Date.now() - started).toBeLessThan(LOADED_MACHINE_SLACK_MS);
    } finally {
      await suite.close();
    }
  }, 30_000);
});

// ── load ──────────────────────────────────────────────────────────────────────────────────────────
describe('reference receiver under load (bounded, loopback only)', () => {
  const CLIENTS = 20;
  const PER_CLIENT = 25;
  /** Each client also re-sends this many of its own earlier notifications (WeChat redelivers). */
  const DUPLICATES_PER_CLIENT = 3;
  /** And at the end, this many concurrent copies of one notification. */
  const CONCURRENT_COPIES = 20;
  const TOTAL_TIMEOUT_MS = 60_000;

  let suite: SuiteFixture;
  const processed: VerifiedNotification[] = [];
  beforeAll(async () => {
    suite = await startSuite({
      start: (opts) =>
        startReceiver({ ...opts, onNotification: (n) => void processed.push(n) }, { host: '127.0.0.1', port: 0 }),
    });
  }, 60_000);
  afterAll(async () => {
    await suite?.close();
  });

  it(`${CLIENTS} concurrent clients × ${PER_CLIENT} genuine v3 deliveries (+ duplicates): every answer is 204`, async () => {
    const config = suite.config;
    // Built (and signed) before the clock starts: the receiver's work is what is measured.
    const plans = Array.from({ length: CLIENTS }, (_, c) => {
      const own = Array.from({ length: PER_CLIENT }, (_, i) =>
        v3Notify(config, { id: `EV-LOAD-${c}-${i}`, event: i % 5 === 4 ? 'REFUND.SUCCESS' : 'TRANSACTION.SUCCESS' }),
      );
      const plan = [...own];
      for (let k = 0; k < DUPLICATES_PER_CLIENT; k++) plan.splice(8 * (k + 1), 0, own[k * 3]!); // an earlier one, again
      return plan;
    });
    const copy = v3Notify(config, { id: 'EV-LOAD-CONCURRENT' });
    const totalDeliveries = CLIENTS * (PER_CLIENT + DUPLICATES_PER_CLIENT) + CONCURRENT_COPIES;

    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const statuses = new Map<number, number>();
    const errors: string[] = [];
    let sent = 0;
    const deliver = async (d: Delivery): Promise<void> => {
      sent++;
      try {
        const answer = await send(suite.receiver.url, d, agent);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (answer.status !== 204) errors.push(`${answer.status} ${answer.body}`);
      } catch (error) {
        errors.push((error as Error).message);
      }
    };
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    try {
      const work = (async () => {
        await Promise.all(
          plans.map(async (plan) => {
            for (const d of plan) await deliver(d);
          }),
        );
        await Promise.all(Array.from({ length: CONCURRENT_COPIES }, () => deliver(copy)));
      })();
      const outOfTime = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`load test still running after ${TOTAL_TIMEOUT_MS} ms`)),
          TOTAL_TIMEOUT_MS,
        );
      });
      await Promise.race([work, outOfTime]);
    } finally {
      clearTimeout(timer);
      agent.destroy();
    }
    const seconds = (performance.now() - started) / 1000;
    const throughput = Math.round(totalDeliveries / seconds);
    console.log(
      `load: ${totalDeliveries} deliveries (${CLIENTS} clients, keep-alive) in ${seconds.toFixed(2)} s: ${throughput} deliveries/s`,
    );

    expect(errors).toEqual([]);
    expect(sent).toBe(totalDeliveries);
    expect([...statuses]).toEqual([[204, totalDeliveries]]);
    // Each notification processed exactly once; every copy acknowledged as a duplicate.
    const distinct = CLIENTS * PER_CLIENT + 1;
    expect(processed).toHaveLength(distinct);
    expect(new Set(processed.map((n) => n.eventId)).size).toBe(distinct);
    const log = suite.receiver.log;
    expect(log).toHaveLength(totalDeliveries);
    expect(log.every((e) => e.outcome === 'ack' && e.status === 204)).toBe(true);
    expect(log.filter((e) => e.duplicate).length).toBe(CLIENTS * DUPLICATES_PER_CLIENT + CONCURRENT_COPIES - 1);
  }, 90_000);
});
