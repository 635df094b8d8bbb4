import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/types.js';
import {
  ACK_TIME_LIMIT_MS,
  SIGNTEST_PREFIX,
  V3_EVENTS,
  type V2SignType,
  type V3EventType,
} from '../../src/protocol/constants.js';
import { buildFlatXml, parseFlatXml } from '../../src/protocol/v2/flat-xml.js';
import { encryptReqInfo } from '../../src/protocol/v2/req-info.js';
import { signV3, v3SignMessage, verifyV3 } from '../../src/protocol/v3/sign-message.js';
import {
  receiverOptionsFromConfig,
  startReceiver,
  type ListenOptions,
  type NotifyVersion,
  type ReceiverOptions,
  type StartedReceiver,
  type VerifiedNotification,
} from '../../src/receiver/index.js';
import { FAULTY_RECEIVERS } from '../fixtures/faulty-receivers.js';
import { signedV2Xml, v3Envelope, v3SignedHeaders } from '../support/build-notifications.js';
import { D1 as VECTOR_D1 } from '../vectors/vectors.js';

// ── fixtures: docs/protocol.md#test-vectors D1, keys generated at test time (never committed) ──
const V2_KEY = '192006250b4c09247ec02edce69f6a2d';
const V3_KEY = 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb';
const OTHER_V3_KEY = 'b8def2AKC2lH3f8WgUt4kRabXjAvs9Hc';
const NOW_MS = 1_704_081_601_000;
const NOW = 1_704_081_601;
const PUB_KEY_ID = 'PUB_KEY_ID_0100TEST000000000000000000000001';
const CERT_SERIAL = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';

// The vector's fields: the receiver must accept exactly what test/vectors signs.
const D1: Record<string, string> = VECTOR_D1.fields;

const REFUND_INNER: Record<string, string> = {
  transaction_id: '4200000000000000000000000001',
  out_trade_no: 'ORDER20240101000001',
  refund_id: '50000000382019052709732678859',
  out_refund_no: 'REFUND20240101000001',
  total_fee: '100',
  refund_fee: '100',
  settlement_refund_fee: '100',
  refund_status: 'SUCCESS',
  success_time: '2024-01-01 12:00:00',
  refund_recv_accout: '支付用户零钱',
  refund_account: 'REFUND_SOURCE_RECHARGE_FUNDS',
  refund_request_source: 'API',
};

const PAY_PLAIN = {
  mchid: '1234567891',
  appid: 'wxd678efh567hg6787',
  out_trade_no: 'ORDER20240101000001',
  transaction_id: '4200000000000000000000000001',
  trade_type: 'JSAPI',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  bank_type: 'OTHERS',
  attach: '',
  success_time: '2024-01-01T12:00:00+08:00',
  payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
};
const REFUND_PLAIN = {
  mchid: '1234567891',
  out_trade_no: 'ORDER20240101000001',
  transaction_id: '4200000000000000000000000001',
  out_refund_no: 'REFUND20240101000001',
  refund_id: '50000000382019052709732678859',
  refund_status: 'SUCCESS',
  success_time: '2024-01-01T12:00:05+08:00',
  user_received_account: '支付用户零钱',
  amount: { total: 100, refund: 100, payer_total: 100, payer_refund: 100 },
};

const PATHS = {
  v2: { payPath: '/wxpay/v2/notify', refundPath: '/wxpay/v2/refund-notify' },
  v3: { payPath: '/wxpay/v3/notify', refundPath: '/wxpay/v3/refund-notify' },
};

let publicKeySigner: { privateKey: KeyObject; publicKey: KeyObject };
let certificateSigner: { privateKey: KeyObject; publicKey: KeyObject };
let untrustedSigner: { privateKey: KeyObject; publicKey: KeyObject };
const spki = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();

beforeAll(() => {
  const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
  publicKeySigner = rsa();
  certificateSigner = rsa();
  untrustedSigner = rsa();
});

function options(override: Partial<ReceiverOptions> = {}): ReceiverOptions {
  return {
    v2: { apiKey: V2_KEY, ...PATHS.v2 },
    v3: {
      apiV3Key: V3_KEY,
      publicKeys: { [PUB_KEY_ID]: spki(publicKeySigner.publicKey), [CERT_SERIAL]: spki(certificateSigner.publicKey) },
      ...PATHS.v3,
    },
    now: () => NOW_MS,
    ...override,
  };
}

const running: StartedReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});
async function start(opts: ReceiverOptions = options(), listen?: ListenOptions): Promise<StartedReceiver> {
  const receiver = await startReceiver(opts, listen);
  running.push(receiver);
  return receiver;
}

// ── deliveries built with src/protocol ───────────────────────────────────────────────────────────
interface Delivery {
  path: string;
  body: string | Uint8Array;
  headers: Record<string, string>;
}

function v2Pay(
  fields: Record<string, string> = D1,
  signType: V2SignType = 'MD5',
  { sendSignType = false, apiKey = V2_KEY } = {},
): Delivery {
  const sent: Record<string, string> = { ...fields, ...(sendSignType ? { sign_type: signType } : {}) };
  return { path: PATHS.v2.payPath, body: signedV2Xml(sent, apiKey, signType), headers: { 'Content-Type': 'text/xml' } };
}

function v2Refund(
  inner: Record<string, string> = REFUND_INNER,
  { apiKey = V2_KEY, path = PATHS.v2.refundPath } = {},
): Delivery {
  const outer = {
    return_code: 'SUCCESS',
    appid: D1.appid!,
    mch_id: D1.mch_id!,
    nonce_str: 'TeqClE3i0mvn3DrK',
    req_info: encryptReqInfo(buildFlatXml('root', inner), apiKey),
  };
  return { path, body: buildFlatXml('xml', outer), headers: { 'Content-Type': 'text/xml' } };
}

/** A refund <root> whose UTF-8 length is a whole number of AES blocks: PKCS#7 adds a full block. */
function blockAlignedInner(): Record<string, string> {
  for (let n = 0; n < 16; n++) {
    const inner = { ...REFUND_INNER, refund_account: 'REFUND_SOURCE_RECHARGE_FUNDS' + ' '.repeat(n) };
    if (Buffer.byteLength(buildFlatXml('root', inner)) % 16 === 0) return inner;
  }
  throw new Error('no padding makes the plaintext block-aligned');
}

interface V3Delivery {
  event?: V3EventType;
  id?: string;
  apiV3Key?: string;
  signer?: KeyObject;
  serial?: string;
  timestamp?: number;
  /** How the envelope becomes the body (default compact JSON). */
  serialise?: (envelope: Record<string, unknown>) => string;
  /** Applied to the signature before sending. */
  resign?: (signature: string) => string;
  /** Applied to the body after signing. */
  tamper?: (body: string) => string;
  omitHeaders?: string[];
  /** The resource before encryption (default: PAY_PLAIN or REFUND_PLAIN). */
  plain?: Record<string, unknown>;
}

function v3Notify(o: V3Delivery = {}): Delivery {
  const event = o.event ?? 'TRANSACTION.SUCCESS';
  const isRefund = V3_EVENTS[event].originalType === 'refund';
  const plaintext = JSON.stringify(
    o.plain ?? (isRefund ? { ...REFUND_PLAIN, refund_status: event.split('.')[1] } : PAY_PLAIN),
  );
  const envelope = v3Envelope({
    id: o.id ?? `EV-${event}-0001`,
    createTime: '2024-01-01T12:00:01+08:00',
    event,
    plaintext,
    apiV3Key: o.apiV3Key ?? V3_KEY,
    resourceNonce: 'fdasflkja484',
  });
  const body = (o.serialise ?? JSON.stringify)(envelope);
  const headers = v3SignedHeaders(body, {
    timestamp: String(o.timestamp ?? NOW),
    nonce: '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
    privateKey: o.signer ?? publicKeySigner.privateKey,
    serial: o.serial ?? PUB_KEY_ID,
    resign: o.resign,
  });
  for (const name of o.omitHeaders ?? []) delete headers[name];
  return { path: isRefund ? PATHS.v3.refundPath : PATHS.v3.payPath, body: o.tamper ? o.tamper(body) : body, headers };
}

interface Answer {
  status: number;
  body: string;
  contentType: string | null;
  location: string | null;
}
async function send(receiver: StartedReceiver, d: Delivery, method = 'POST'): Promise<Answer> {
  const res = await fetch(receiver.url + d.path, {
    method,
    headers: d.headers,
    body: method === 'POST' ? d.body : undefined,
    redirect: 'manual',
  });
  return {
    status: res.status,
    body: await res.text(),
    contentType: res.headers.get('content-type'),
    location: res.headers.get('location'),
  };
}

/** v2 return_code of an XML reply, or undefined when the reply is not WeChat XML. */
function returnCode(body: string): string | undefined {
  try {
    const message = parseFlatXml(body);
    return message.root === 'xml' ? message.fields.return_code : undefined;
  } catch {
    return undefined;
  }
}
/**
 * The judge's rule (docs/protocol.md#acknowledgement-rules): v2 needs 2xx + XML return_code SUCCESS;
 * v3 needs 200/204.
 */
function acknowledged(version: NotifyVersion, a: Answer): boolean {
  if (version === 'v2') return a.status >= 200 && a.status < 300 && returnCode(a.body) === 'SUCCESS';
  return a.status === 200 || a.status === 204;
}
const v3Message = (a: Answer): unknown => (JSON.parse(a.body) as { message: unknown }).message;

// ── v2 ───────────────────────────────────────────────────────────────────────────────────────────
describe('reference receiver: v2', () => {
  it('acknowledges the D1 MD5 notification (vector sign) with return_code SUCCESS', async () => {
    const receiver = await start();
    const delivery = v2Pay();
    expect(parseFlatXml(delivery.body as string).fields.sign).toBe('326441E4CDF100FA6884739B93143149');
    const answer = await send(receiver, delivery);
    expect(answer.status).toBe(200);
    expect(returnCode(answer.body)).toBe('SUCCESS');
    expect(answer.contentType).toMatch(/xml/);
    expect(receiver.log).toMatchObject([
      { version: 'v2', kind: 'pay', outcome: 'ack', eventId: D1.transaction_id, status: 200 },
    ]);
    expect(receiver.log[0]!.notification).toMatchObject({ total_fee: '100', out_trade_no: D1.out_trade_no });
  });

  it('acknowledges HMAC-SHA256 with sign_type, and without it (the real-world quirk)', async () => {
    const receiver = await start();
    const without = v2Pay(D1, 'HMAC-SHA256');
    expect(parseFlatXml(without.body as string).fields.sign).toBe(
      'C5D561CC81708074677137438B0DB3980134F9E0330E5D0C1D7AF1A8CCEC2C40',
    );
    expect(returnCode((await send(receiver, v2Pay(D1, 'HMAC-SHA256', { sendSignType: true }))).body)).toBe('SUCCESS');
    expect(returnCode((await send(receiver, without)).body)).toBe('SUCCESS');
  });

  it('signs over unknown extra fields and coupons too', async () => {
    const receiver = await start();
    const extra = {
      ...D1,
      coupon_count: '1',
      coupon_id_0: '10000',
      coupon_fee_0: '10',
      brand_new_field: 'x',
      transaction_id: '4200000000000000000000000099',
    };
    expect(returnCode((await send(receiver, v2Pay(extra))).body)).toBe('SUCCESS');
  });

  it('refuses a bad sign, a tampered amount and a missing sign with 200 + return_code FAIL', async () => {
    const receiver = await start();
    const bad = v2Pay(D1, 'MD5', { apiKey: 'ffffffffffffffffffffffffffffffff' });
    const tampered = {
      ...v2Pay(),
      body: (v2Pay().body as string).replace('<total_fee>100</total_fee>', '<total_fee>1</total_fee>'),
    };
    const missing = { ...v2Pay(), body: buildFlatXml('xml', D1) };
    for (const delivery of [bad, tampered, missing]) {
      const answer = await send(receiver, delivery);
      expect(answer.status).toBe(200);
      expect(returnCode(answer.body)).toBe('FAIL');
    }
    expect(receiver.log.map((e) => e.reason)).toEqual([
      expect.stringMatching(/sign does not verify as MD5.*APIv2/),
      expect.stringMatching(/sign does not verify/),
      'missing sign',
    ]);
  });

  it('decrypts a refund whose plaintext is a multiple of 16 bytes (full padding block)', async () => {
    const inner = { ...REFUND_INNER };
    while (Buffer.byteLength(buildFlatXml('root', inner)) % 16 !== 0) inner.refund_id += '0';
    expect(Buffer.byteLength(buildFlatXml('root', inner)) % 16).toBe(0);
    const receiver = await start();
    const answer = await send(receiver, v2Refund(inner));
    expect(returnCode(answer.body)).toBe('SUCCESS');
    expect(receiver.log[0]).toMatchObject({ kind: 'refund', outcome: 'ack', eventId: 'REFUND20240101000001/SUCCESS' });
    expect(receiver.log[0]!.notification).toMatchObject({
      refund_recv_accout: '支付用户零钱',
      refund_id: inner.refund_id,
    });
  });

  it('refuses req_info encrypted under another key', async () => {
    const receiver = await start();
    const answer = await send(receiver, v2Refund(REFUND_INNER, { apiKey: 'ffffffffffffffffffffffffffffffff' }));
    expect(returnCode(answer.body)).toBe('FAIL');
    expect(answer.body).toContain('cannot decrypt req_info');
  });

  it('answers FAIL XML to bodies that are not WeChat XML', async () => {
    const receiver = await start();
    for (const body of [
      '{"return_code":"SUCCESS"}',
      'success',
      '<html><body><p>x</p></body></html>',
      '',
      '<xml><a>1</a>',
    ]) {
      const answer = await send(receiver, { path: PATHS.v2.payPath, body, headers: { 'Content-Type': 'text/xml' } });
      expect(answer.status).toBe(200);
      expect(returnCode(answer.body)).toBe('FAIL');
    }
  });
});

// ── v3 ───────────────────────────────────────────────────────────────────────────────────────────
describe('reference receiver: v3', () => {
  it('acknowledges pay (public-key serial) and refund (certificate serial) with 204', async () => {
    const receiver = await start();
    const pay = await send(receiver, v3Notify());
    const refund = await send(
      receiver,
      v3Notify({ event: 'REFUND.SUCCESS', signer: certificateSigner.privateKey, serial: CERT_SERIAL }),
    );
    expect([pay.status, pay.body, refund.status]).toEqual([204, '', 204]);
    expect(receiver.log[0]).toMatchObject({
      version: 'v3',
      kind: 'pay',
      outcome: 'ack',
      eventId: 'EV-TRANSACTION.SUCCESS-0001',
      notification: PAY_PLAIN,
    });
    expect(receiver.log[1]).toMatchObject({ kind: 'refund', notification: { refund_status: 'SUCCESS' } });
  });

  it('verifies the raw bytes: non-ASCII, pretty-printed, other key order', async () => {
    const receiver = await start();
    const reordered = (e: Record<string, unknown>) =>
      JSON.stringify({ resource: e.resource, summary: '支付成功 ✓', id: e.id, event_type: e.event_type }, null, 2);
    expect((await send(receiver, v3Notify({ serialise: reordered }))).status).toBe(204);
  });

  const refusals: [string, () => V3Delivery, number, RegExp][] = [
    [
      'a bad signature',
      () => ({ resign: (s) => s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11) }),
      401,
      /does not verify/,
    ],
    [
      'a WECHATPAY/SIGNTEST/ probe',
      () => ({ resign: (s) => SIGNTEST_PREFIX + s.slice(SIGNTEST_PREFIX.length) }),
      401,
      /probe/,
    ],
    [
      'a body tampered after signing',
      () => ({ tamper: (b) => b.replace('"summary":"支付成功"', '"summary":"支付成功 "') }),
      401,
      /does not verify/,
    ],
    ['a timestamp 301 s old', () => ({ timestamp: NOW - 301 }), 401, /301 s behind/],
    ['a timestamp 6 min ahead', () => ({ timestamp: NOW + 360 }), 401, /360 s ahead/],
    [
      'an unknown serial',
      () => ({ signer: untrustedSigner.privateKey, serial: 'PUB_KEY_ID_UNKNOWN' }),
      401,
      /unknown Wechatpay-Serial/,
    ],
    ['a known serial signed by the other key', () => ({ serial: CERT_SERIAL }), 401, /does not verify/],
    [
      'missing signature headers',
      () => ({ omitHeaders: ['Wechatpay-Signature', 'Wechatpay-Nonce'] }),
      401,
      /missing Wechatpay-Nonce, Wechatpay-Signature/,
    ],
    [
      'a resource under another APIv3 key',
      () => ({ apiV3Key: OTHER_V3_KEY }),
      400,
      /cannot decrypt: check the APIv3 key \(APIv3密钥\)/,
    ],
  ];
  it.each(refusals)('refuses %s', async (_name, build, status, message) => {
    const receiver = await start();
    const answer = await send(receiver, v3Notify(build()));
    expect(answer.status).toBe(status);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'FAIL' });
    expect(v3Message(answer)).toMatch(message);
  });

  it('accepts a timestamp exactly 300 s old', async () => {
    const receiver = await start();
    expect((await send(receiver, v3Notify({ timestamp: NOW - 300 }))).status).toBe(204);
  });

  it('refuses a signed body that is not JSON with 400', async () => {
    const receiver = await start();
    const ts = String(NOW);
    const body = 'not json';
    const signature = signV3(v3SignMessage(ts, 'n', body), publicKeySigner.privateKey);
    const headers = {
      'Wechatpay-Timestamp': ts,
      'Wechatpay-Nonce': 'n',
      'Wechatpay-Signature': signature,
      'Wechatpay-Serial': PUB_KEY_ID,
    };
    const answer = await send(receiver, { path: PATHS.v3.payPath, body, headers });
    expect([answer.status, v3Message(answer)]).toEqual([400, 'body is not JSON']);
  });
});

// ── redelivery and processing ─────────────────────────────────────────────────────────────────────
describe('reference receiver: idempotency', () => {
  it('acknowledges every copy (sequential and concurrent) and processes once', async () => {
    const processed: VerifiedNotification[] = [];
    const receiver = await start(options({ onNotification: (n) => void processed.push(n) }));
    expect((await send(receiver, v3Notify())).status).toBe(204);
    const copies = await Promise.all([1, 2, 3].map(() => send(receiver, v3Notify())));
    expect(copies.map((a) => a.status)).toEqual([204, 204, 204]);
    expect((await send(receiver, v2Pay())).status).toBe(200);
    expect(returnCode((await send(receiver, v2Pay(D1, 'HMAC-SHA256'))).body)).toBe('SUCCESS');
    expect(processed.map((n) => `${n.version}:${n.eventId}`)).toEqual([
      'v3:EV-TRANSACTION.SUCCESS-0001',
      `v2:${D1.transaction_id}`,
    ]);
    expect(receiver.log.map((e) => e.duplicate ?? false)).toEqual([false, true, true, true, false, true]);
  });

  it('refuses when processing throws, and processes the retry', async () => {
    let calls = 0;
    const receiver = await start(
      options({
        onNotification: () => {
          if (++calls === 1) throw new Error('db down');
        },
      }),
    );
    const first = await send(receiver, v3Notify());
    expect([first.status, v3Message(first)]).toEqual([500, 'processing failed; please retry']);
    expect(receiver.log[0]).toMatchObject({ outcome: 'reject', reason: 'processing failed: db down' });
    expect((await send(receiver, v3Notify())).status).toBe(204);
    expect(calls).toBe(2);
  });
});

// ── v2 XML refunds on the v3 refund path ──────────────────────────────────────────────────────────
describe('reference receiver: v2 XML refund at the v3 refund path', () => {
  it('hands it to the v2 refund handler', async () => {
    const receiver = await start();
    const answer = await send(receiver, v2Refund(REFUND_INNER, { path: PATHS.v3.refundPath }));
    expect(returnCode(answer.body)).toBe('SUCCESS');
    expect(receiver.log[0]).toMatchObject({ path: PATHS.v3.refundPath, version: 'v2', kind: 'refund', outcome: 'ack' });
  });

  it('refuses it clearly when no APIv2 key is configured', async () => {
    const receiver = await start(options({ v2: undefined }));
    const answer = await send(receiver, v2Refund(REFUND_INNER, { path: PATHS.v3.refundPath }));
    expect(returnCode(answer.body)).toBe('FAIL');
    expect(answer.body).toContain('商户平台');
  });
});

// ── HTTP shell ───────────────────────────────────────────────────────────────────────────────────
describe('reference receiver: HTTP', () => {
  it('answers 404 to unknown paths and 405 to GET', async () => {
    const receiver = await start();
    expect((await send(receiver, { ...v3Notify(), path: '/wxpay/v3/notify/' })).status).toBe(404);
    expect((await send(receiver, { ...v3Notify(), path: '//wxpay/v3/notify' })).status).toBe(404);
    const get = await fetch(receiver.url + PATHS.v3.payPath);
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
  });

  it('answers 413 + FAIL to a body over 1 MiB, and keeps serving', async () => {
    const receiver = await start();
    const huge = { ...v3Notify(), body: 'x'.repeat(2 * 1024 * 1024) };
    const answer = await send(receiver, huge);
    expect([answer.status, JSON.parse(answer.body).code]).toEqual([413, 'FAIL']);
    const v2 = await send(receiver, { ...v2Pay(), body: `<xml>${'x'.repeat(1024 * 1024)}</xml>` });
    expect([v2.status, returnCode(v2.body)]).toEqual([413, 'FAIL']);
    expect((await send(receiver, v3Notify())).status).toBe(204);
  });

  it('refuses invalid UTF-8 and garbage without headers, and survives raw malformed HTTP', async () => {
    const receiver = await start();
    const bytes = await send(receiver, { ...v3Notify(), body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) });
    expect([bytes.status, v3Message(bytes)]).toEqual([400, 'body is not valid UTF-8']);
    expect((await send(receiver, { path: PATHS.v3.payPath, body: '\u0000garbage', headers: {} })).status).toBe(401);
    const { connect } = await import('node:net');
    const raw = await new Promise<string>((resolve) => {
      const socket = connect(receiver.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let data = '';
      socket.on('data', (d) => (data += d.toString())).on('close', () => resolve(data));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect((await send(receiver, v3Notify())).status).toBe(204);
  });

  it('never puts a key in its log', async () => {
    const entries: unknown[] = [];
    const receiver = await start(options({ log: (e) => void entries.push(e) }));
    await send(receiver, v2Pay(D1, 'MD5', { apiKey: 'ffffffffffffffffffffffffffffffff' }));
    await send(receiver, v2Refund());
    await send(receiver, v3Notify({ apiV3Key: OTHER_V3_KEY }));
    await send(receiver, v3Notify());
    expect(entries).toEqual(receiver.log);
    const text = JSON.stringify(entries);
    for (const secret of [V2_KEY, V3_KEY, OTHER_V3_KEY]) expect(text).not.toContain(secret);
  });

  it('refuses clashing paths and bad PEMs at start-up', async () => {
    await expect(
      startReceiver(options({ v2: { apiKey: V2_KEY, payPath: PATHS.v3.payPath, refundPath: '/r' } })),
    ).rejects.toThrow(/already the v2 pay path/);
    const v3 = { ...options().v3!, publicKeys: { [PUB_KEY_ID]: 'not a pem' } };
    await expect(startReceiver(options({ v3 }))).rejects.toThrow(/v3\.publicKeys\["PUB_KEY_ID_0100TEST/);
  });

  it('close() ends keep-alive connections promptly', async () => {
    const receiver = await startReceiver(options());
    await send(receiver, v3Notify()); // fetch keeps the connection alive
    const started = Date.now();
    await receiver.close();
    await receiver.close();
    // Without closing idle connections, close() would wait for Node's keep-alive timeout (5 s).
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('receiverOptionsFromConfig', () => {
  it('takes paths from the notify URLs and trusts both configured signers by serial', async () => {
    const pkcs8 = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
    const config: ResolvedConfig = {
      name: 'acme',
      appid: 'wx2421b1c4370ec43b',
      mchid: '1900000109',
      configDir: '/tmp',
      order: {
        outTradeNo: 'T1',
        total: 1,
        openid: 'o',
        transactionId: 't',
        outRefundNo: 'r',
        refundId: 'ri',
        refund: 1,
      },
      v2: {
        notifyUrl: 'https://shop.example.com/wxpay/v2/notify',
        refundNotifyUrl: 'https://shop.example.com/wxpay/v2/refund-notify',
        apiKey: V2_KEY,
        signType: 'MD5',
      },
      v3: {
        notifyUrl: 'https://shop.example.com/wxpay/v3/notify',
        refundNotifyUrl: 'https://shop.example.com:8443/wxpay/v3/refund-notify',
        apiV3Key: V3_KEY,
        platform: { privateKeyFile: '/k1.pem', privateKeyPem: pkcs8(publicKeySigner.privateKey), serial: PUB_KEY_ID },
        platformCertificate: {
          privateKeyFile: '/k2.pem',
          privateKeyPem: pkcs8(certificateSigner.privateKey),
          serial: CERT_SERIAL,
        },
      },
    };
    const opts = receiverOptionsFromConfig(config);
    expect(opts.v2).toEqual({ apiKey: V2_KEY, ...PATHS.v2 });
    expect({ ...opts.v3, publicKeys: Object.keys(opts.v3!.publicKeys) }).toEqual({
      apiV3Key: V3_KEY,
      publicKeys: [PUB_KEY_ID, CERT_SERIAL],
      ...PATHS.v3,
    });
    expect(opts.v3!.publicKeys[PUB_KEY_ID]).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const signature = signV3('m', certificateSigner.privateKey);
    expect(verifyV3('m', signature, createPublicKey(opts.v3!.publicKeys[CERT_SERIAL]!))).toBe(true);

    const receiver = await start({ ...opts, now: () => NOW_MS });
    expect(
      (
        await send(
          receiver,
          v3Notify({ event: 'REFUND.CLOSED', signer: certificateSigner.privateKey, serial: CERT_SERIAL }),
        )
      ).status,
    ).toBe(204);
  });
});

// ── faulty receivers: each must differ from the reference on its own case ─────────────────────────
type Verdict = 'ack' | 'reject' | 'late' | 'transport-error';
interface FaultCheck {
  version: NotifyVersion;
  /** Sent in order; the last answer is judged. */
  deliveries: () => Delivery[];
  /** What a correct merchant does with the last one. */
  correct: 'ack' | 'reject';
  /** What this faulty receiver does instead. */
  faulty: Verdict;
}

const once = (d: () => Delivery) => () => [d()];
const FAULT_CHECKS: Record<string, FaultCheck> = {
  'json-ack': { version: 'v2', deliveries: once(() => v2Pay()), correct: 'ack', faulty: 'reject' },
  'plain-success-ack': { version: 'v2', deliveries: once(() => v2Pay()), correct: 'ack', faulty: 'reject' },
  'parses-xml-as-json': { version: 'v2', deliveries: once(() => v2Refund()), correct: 'ack', faulty: 'reject' },
  'v2-no-sign-check': {
    version: 'v2',
    deliveries: once(() => v2Pay(D1, 'MD5', { apiKey: 'ffffffffffffffffffffffffffffffff' })),
    correct: 'reject',
    faulty: 'ack',
  },
  'v2-acks-tampered': {
    version: 'v2',
    deliveries: once(() => ({ ...v2Pay(), body: buildFlatXml('xml', D1) })),
    correct: 'reject',
    faulty: 'ack',
  },
  'v2-defaults-to-md5': {
    version: 'v2',
    deliveries: once(() => v2Pay(D1, 'HMAC-SHA256')),
    correct: 'ack',
    faulty: 'reject',
  },
  'drops-sign-type': {
    version: 'v2',
    deliveries: once(() => v2Pay(D1, 'MD5', { sendSignType: true })),
    correct: 'ack',
    faulty: 'reject',
  },
  'fails-failed-payments': {
    version: 'v2',
    deliveries: once(() => v2Pay({ ...D1, result_code: 'FAIL', err_code: 'SYSTEMERROR', err_code_des: '系统错误' })),
    correct: 'ack',
    faulty: 'reject',
  },
  'trims-values': {
    version: 'v2',
    deliveries: once(() => v2Pay({ ...D1, attach: ' order note ' })),
    correct: 'ack',
    faulty: 'reject',
  },
  'refund-key-wrong': { version: 'v2', deliveries: once(() => v2Refund()), correct: 'ack', faulty: 'reject' },
  'ecb-full-block-padding-bug': {
    version: 'v2',
    deliveries: once(() => v2Refund(blockAlignedInner())),
    correct: 'ack',
    faulty: 'reject',
  },
  'refund-acks-undecryptable': {
    version: 'v2',
    deliveries: once(() => v2Refund(REFUND_INNER, { apiKey: 'ffffffffffffffffffffffffffffffff' })),
    correct: 'reject',
    faulty: 'ack',
  },
  'html-error-page': { version: 'v2', deliveries: once(() => v2Pay()), correct: 'ack', faulty: 'reject' },
  'v3-500-to-valid': { version: 'v3', deliveries: once(() => v3Notify()), correct: 'ack', faulty: 'reject' },
  'v3-200-code-fail': {
    version: 'v3',
    deliveries: once(() => v3Notify({ timestamp: NOW - 360 })),
    correct: 'reject',
    faulty: 'ack',
  },
  'v3-wrong-aad': {
    version: 'v3',
    deliveries: once(() => v3Notify({ event: 'REFUND.ABNORMAL' })),
    correct: 'ack',
    faulty: 'reject',
  },
  'payer-total-as-amount': {
    version: 'v3',
    deliveries: once(() =>
      v3Notify({
        plain: {
          ...PAY_PLAIN,
          amount: { ...PAY_PLAIN.amount, payer_total: 90 },
          promotion_detail: [{ coupon_id: '109519', type: 'CASH', amount: 10 }],
        },
      }),
    ),
    correct: 'ack',
    faulty: 'reject',
  },
  'expects-plain-transaction': {
    version: 'v3',
    deliveries: once(() =>
      v3Notify({
        plain: {
          combine_appid: PAY_PLAIN.appid,
          combine_mchid: PAY_PLAIN.mchid,
          combine_out_trade_no: 'C20240101000001',
          sub_orders: [
            {
              mchid: PAY_PLAIN.mchid,
              out_trade_no: PAY_PLAIN.out_trade_no,
              amount: { total_amount: 100, payer_amount: 100 },
            },
          ],
        },
      }),
    ),
    correct: 'ack',
    faulty: 'reject',
  },
  'v3-ignores-serial': {
    version: 'v3',
    deliveries: once(() => v3Notify({ signer: certificateSigner.privateKey, serial: CERT_SERIAL })),
    correct: 'ack',
    faulty: 'reject',
  },
  'slow-6s': { version: 'v3', deliveries: once(() => v3Notify()), correct: 'ack', faulty: 'late' },
  'v3-no-signature-check': {
    version: 'v3',
    deliveries: once(() => v3Notify({ tamper: (b) => b.replace('支付成功', '支付失败') })),
    correct: 'reject',
    faulty: 'ack',
  },
  'acks-signtest-probe': {
    version: 'v3',
    deliveries: once(() => v3Notify({ resign: (s) => SIGNTEST_PREFIX + s })),
    correct: 'reject',
    faulty: 'ack',
  },
  'ignores-timestamp': {
    version: 'v3',
    deliveries: once(() => v3Notify({ timestamp: NOW + 360 })),
    correct: 'reject',
    faulty: 'ack',
  },
  'accepts-any-serial': {
    version: 'v3',
    deliveries: once(() => v3Notify({ serial: 'PUB_KEY_ID_0100OTHER' })),
    correct: 'reject',
    faulty: 'ack',
  },
  'acks-without-decrypting': {
    version: 'v3',
    deliveries: once(() => v3Notify({ apiV3Key: OTHER_V3_KEY })),
    correct: 'reject',
    faulty: 'ack',
  },
  'reserialises-body': {
    version: 'v3',
    deliveries: once(() => v3Notify({ serialise: (e) => JSON.stringify(e, null, 2) })),
    correct: 'ack',
    faulty: 'reject',
  },
  'reads-body-as-latin1': { version: 'v3', deliveries: once(() => v3Notify()), correct: 'ack', faulty: 'reject' },
  'not-idempotent': { version: 'v3', deliveries: () => [v3Notify(), v3Notify()], correct: 'ack', faulty: 'reject' },
  redirects: { version: 'v3', deliveries: once(() => v3Notify()), correct: 'ack', faulty: 'reject' },
  'drops-connection': { version: 'v2', deliveries: once(() => v2Pay()), correct: 'ack', faulty: 'transport-error' },
  'answers-200-to-everything': {
    version: 'v3',
    deliveries: once(() => v3Notify({ resign: (s) => SIGNTEST_PREFIX + s })),
    correct: 'reject',
    faulty: 'ack',
  },
};

async function verdict(receiver: StartedReceiver, check: FaultCheck): Promise<Verdict> {
  let last: Answer | undefined;
  let elapsed = 0;
  for (const delivery of check.deliveries()) {
    const started = performance.now();
    try {
      last = await send(receiver, delivery);
    } catch {
      return 'transport-error';
    }
    elapsed = performance.now() - started;
  }
  if (elapsed > ACK_TIME_LIMIT_MS) return 'late';
  return acknowledged(check.version, last!) ? 'ack' : 'reject';
}

describe('faulty receivers', () => {
  it('every fixture has a check here, and every check a fixture', () => {
    expect(Object.keys(FAULT_CHECKS).sort()).toEqual(Object.keys(FAULTY_RECEIVERS).sort());
  });

  it.each(Object.keys(FAULT_CHECKS))(
    '%s fails where the reference receiver passes',
    async (name) => {
      const check = FAULT_CHECKS[name]!;
      expect(await verdict(await start(), check)).toBe(check.correct);
      const faulty = await FAULTY_RECEIVERS[name]!.start(options(), { delayMs: 5_100 });
      running.push(faulty);
      expect(await verdict(faulty, check)).toBe(check.faulty);
    },
    15_000,
  );
});
