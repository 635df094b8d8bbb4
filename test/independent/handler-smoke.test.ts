import { spawnSync } from 'node:child_process';
import { createCipheriv, createHash, createHmac, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HANDLER_SCRIPT,
  PYTHON,
  independentHandlerUnavailableReason,
  startIndependentHandler,
  type IndependentHandlerBug,
  type StartedIndependentHandler,
} from '../support/independent-handler.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * The independent handler (test/fixtures/independent-handler/handler.py) must be sound on its own
 * before it can judge our judge: here it is probed with notifications built right in this file with
 * Node's crypto (not with src/protocol), and every bug must change exactly the answers it says.
 */
const keys = testKeys();
const PATHS = {
  v2pay: '/wxpay/v2/notify',
  v2refund: '/wxpay/v2/refund-notify',
  v3pay: '/wxpay/v3/notify',
  v3refund: '/wxpay/v3/refund-notify',
};
const HANDLER_CONFIG = {
  v2: { apiKey: keys.apiKey, payPath: PATHS.v2pay, refundPath: PATHS.v2refund },
  v3: {
    apiV3Key: keys.apiV3Key,
    payPath: PATHS.v3pay,
    refundPath: PATHS.v3refund,
    trusted: [
      { serial: keys.publicKey.keyId, publicKeyPem: keys.publicKey.publicKeyPem },
      { serial: keys.certificate.serial, certificatePem: keys.certificate.certificatePem },
    ],
  },
};

// ── building notifications, from the protocol reference, with Node's crypto ─────────────────────────

let sequence = 0;
const unique = (): string => `${Date.now()}${String(++sequence).padStart(4, '0')}`;
const alnum = (n: number): string =>
  randomBytes(n)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, 'x')
    .slice(0, n);
const now = (): number => Math.floor(Date.now() / 1000);

type Signer = 'public-key' | 'certificate';
interface V3Options {
  signer?: Signer;
  layout?: 'compact' | 'spaced';
  signature?: 'bad' | 'signtest';
  timestampOffset?: number;
  serial?: string;
  apiV3Key?: string;
  dropHeaders?: boolean;
}

function gcm(plaintext: string, key: string, nonce: string, aad: string): string {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(key), Buffer.from(nonce));
  cipher.setAAD(Buffer.from(aad));
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
}

/** A v3 notification (envelope + resource); `signed()` signs it afresh for each delivery. */
function v3Notification(kind: 'pay' | 'refund', options: V3Options = {}) {
  const n = unique();
  const resource =
    kind === 'pay'
      ? {
          mchid: '1900000109',
          appid: 'wx2421b1c4370ec43b',
          out_trade_no: `T${n}`,
          transaction_id: `42${n}`,
          trade_type: 'JSAPI',
          trade_state: 'SUCCESS',
          trade_state_desc: '支付成功',
          bank_type: 'OTHERS',
          attach: '',
          success_time: '2026-01-01T12:00:00+08:00',
          payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
          amount: { total: 1, payer_total: 1, currency: 'CNY', payer_currency: 'CNY' },
        }
      : {
          mchid: '1900000109',
          out_trade_no: `T${n}`,
          transaction_id: `42${n}`,
          out_refund_no: `R${n}`,
          refund_id: `50${n}`,
          refund_status: 'SUCCESS',
          success_time: '2026-01-01T12:00:00+08:00',
          user_received_account: '支付用户零钱',
          amount: { total: 1, refund: 1, payer_total: 1, payer_refund: 1 },
        };
  const aad = kind === 'pay' ? 'transaction' : 'refund';
  const nonce = alnum(12);
  const envelope = {
    id: `EV-${n}`,
    create_time: '2026-01-01T12:00:01+08:00',
    resource_type: 'encrypt-resource',
    event_type: kind === 'pay' ? 'TRANSACTION.SUCCESS' : 'REFUND.SUCCESS',
    summary: kind === 'pay' ? '支付成功' : '退款成功',
    resource: {
      original_type: aad,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: gcm(JSON.stringify(resource), options.apiV3Key ?? keys.apiV3Key, nonce, aad),
      associated_data: aad,
      nonce,
    },
  };
  const body =
    options.layout === 'spaced'
      ? JSON.stringify(
          {
            resource: envelope.resource,
            summary: envelope.summary,
            event_type: envelope.event_type,
            resource_type: envelope.resource_type,
            create_time: envelope.create_time,
            id: envelope.id,
          },
          null,
          2,
        )
      : JSON.stringify(envelope);
  return {
    body,
    signed(): Record<string, string> {
      const signer = options.signer ?? 'public-key';
      const privateKey = signer === 'public-key' ? keys.publicKey.privateKeyPem : keys.certificate.privateKeyPem;
      const timestamp = String(now() + (options.timestampOffset ?? 0));
      const headerNonce = alnum(32);
      // Signed message: timestamp\nnonce\nbody\n, SHA256withRSA PKCS#1 v1.5 (protocol reference 3.6).
      const signedBody = options.signature === 'bad' ? body + ' ' : body;
      let signature = sign('sha256', Buffer.from(`${timestamp}\n${headerNonce}\n${signedBody}\n`), privateKey).toString(
        'base64',
      );
      if (options.signature === 'signtest') signature = `WECHATPAY/SIGNTEST/${signature.slice(19)}`;
      if (options.dropHeaders) return { 'Content-Type': 'application/json' };
      return {
        'Content-Type': 'application/json',
        'Wechatpay-Timestamp': timestamp,
        'Wechatpay-Nonce': headerNonce,
        'Wechatpay-Signature': signature,
        'Wechatpay-Serial':
          options.serial ?? (signer === 'public-key' ? keys.publicKey.keyId : keys.certificate.serial),
        'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
      };
    },
  };
}

const cdata = (fields: Record<string, string>, root: string): string =>
  `<${root}>${Object.entries(fields)
    .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
    .join('')}</${root}>`;

/** v2 sign (protocol reference 1.4): non-empty fields but sign, ASCII order, &key=, MD5 or HMAC-SHA256. */
function v2Sign(fields: Record<string, string>, algorithm: 'MD5' | 'HMAC-SHA256'): string {
  const text =
    Object.keys(fields)
      .filter((k) => k !== 'sign' && fields[k] !== '')
      .sort()
      .map((k) => `${k}=${fields[k]}`)
      .join('&') + `&key=${keys.apiKey}`;
  const digest =
    algorithm === 'MD5'
      ? createHash('md5').update(text, 'utf8')
      : createHmac('sha256', keys.apiKey).update(text, 'utf8');
  return digest.digest('hex').toUpperCase();
}

function v2Pay(
  options: { algorithm?: 'MD5' | 'HMAC-SHA256'; resultCode?: string; badSign?: boolean; doctype?: boolean } = {},
): string {
  const n = unique();
  const fields: Record<string, string> = {
    return_code: 'SUCCESS',
    appid: 'wx2421b1c4370ec43b',
    mch_id: '1900000109',
    nonce_str: alnum(32),
    result_code: options.resultCode ?? 'SUCCESS',
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    is_subscribe: 'N',
    trade_type: 'JSAPI',
    bank_type: 'OTHERS',
    total_fee: '1',
    fee_type: 'CNY',
    cash_fee: '1',
    transaction_id: `42${n}`,
    out_trade_no: `T${n}`,
    attach: '',
    time_end: '20260101120000',
  };
  fields.sign = v2Sign(fields, options.algorithm ?? 'MD5');
  if (options.badSign) fields.sign = v2Sign({ ...fields, total_fee: '2' }, options.algorithm ?? 'MD5');
  const xml = cdata(fields, 'xml');
  return options.doctype ? `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "b">]>${xml}` : xml;
}

/** v2 refund: no sign; req_info = base64(AES-256-ECB(md5hex(APIv2 key), <root>…)) (protocol reference 2.2). */
function v2Refund(options: { key?: string } = {}): string {
  const n = unique();
  const inner = cdata(
    {
      transaction_id: `42${n}`,
      out_trade_no: `T${n}`,
      refund_id: `50${n}`,
      out_refund_no: `R${n}`,
      total_fee: '1',
      refund_fee: '1',
      settlement_refund_fee: '1',
      refund_status: 'SUCCESS',
      success_time: '2026-01-01 12:00:00',
      refund_recv_accout: '支付用户零钱',
      refund_account: 'REFUND_SOURCE_RECHARGE_FUNDS',
      refund_request_source: 'API',
    },
    'root',
  );
  const aesKey = createHash('md5')
    .update(options.key ?? keys.apiKey)
    .digest('hex');
  const cipher = createCipheriv('aes-256-ecb', Buffer.from(aesKey), null);
  const reqInfo = Buffer.concat([cipher.update(inner, 'utf8'), cipher.final()]).toString('base64');
  return cdata(
    {
      return_code: 'SUCCESS',
      appid: 'wx2421b1c4370ec43b',
      mch_id: '1900000109',
      nonce_str: alnum(32),
      req_info: reqInfo,
    },
    'xml',
  );
}

// ── sending, and reading answers as one short line ───────────────────────────────────────────────────

async function post(url: string, body: string, headers: Record<string, string>): Promise<string> {
  const response = await fetch(url, { method: 'POST', body, headers });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  if (response.status === 204 && text === '') return '204';
  if (type.includes('json')) {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    return 'code' in parsed
      ? `${response.status} ${String(parsed.code)} ${String(parsed.message)}`
      : `${response.status} ${text}`;
  }
  if (type.includes('xml')) {
    const field = (name: string): string =>
      new RegExp(`<${name}>(?:<!\\[CDATA\\[)?(.*?)(?:\\]\\]>)?</${name}>`).exec(text)?.[1] ?? '?';
    return `${response.status} xml ${field('return_code')} ${field('return_msg')}`;
  }
  return `${response.status} ${type.split(';')[0]} ${text}`;
}

const xmlHeaders = { 'Content-Type': 'text/xml' };
type Probe = (url: string) => Promise<string>;
const v3Once =
  (path: string, n: ReturnType<typeof v3Notification>): Probe =>
  (url) =>
    post(url + path, n.body, n.signed());

/** Each probe builds fresh orders, so a probe never collides with another one's order. */
const PROBES: Record<string, Probe> = {
  'v3 pay, public key': (url) => v3Once(PATHS.v3pay, v3Notification('pay'))(url),
  'v3 pay, certificate': (url) => v3Once(PATHS.v3pay, v3Notification('pay', { signer: 'certificate' }))(url),
  'v3 refund': (url) => v3Once(PATHS.v3refund, v3Notification('refund'))(url),
  'v3 pay, other key order and whitespace': (url) =>
    v3Once(PATHS.v3pay, v3Notification('pay', { layout: 'spaced' }))(url),
  'v3 bad signature': (url) => v3Once(PATHS.v3pay, v3Notification('pay', { signature: 'bad' }))(url),
  'v3 SIGNTEST probe': (url) => v3Once(PATHS.v3pay, v3Notification('pay', { signature: 'signtest' }))(url),
  'v3 without signature headers': (url) => v3Once(PATHS.v3pay, v3Notification('pay', { dropHeaders: true }))(url),
  'v3 timestamp 6 minutes old': (url) => v3Once(PATHS.v3pay, v3Notification('pay', { timestampOffset: -360 }))(url),
  'v3 unknown serial': (url) =>
    v3Once(PATHS.v3pay, v3Notification('pay', { serial: 'PUB_KEY_ID_0000000000000000000000000000000001' }))(url),
  'v3 other APIv3 key': (url) => v3Once(PATHS.v3pay, v3Notification('pay', { apiV3Key: 'x'.repeat(32) }))(url),
  'v3 same notification twice': async (url) => {
    const n = v3Notification('pay');
    const first = await post(url + PATHS.v3pay, n.body, n.signed());
    return `${first} then ${await post(url + PATHS.v3pay, n.body, n.signed())}`;
  },
  'v3 three copies at once': async (url) => {
    const n = v3Notification('pay');
    const answers = await Promise.all([1, 2, 3].map(() => post(url + PATHS.v3pay, n.body, n.signed())));
    return answers.sort().join(' | ');
  },
  'v2 pay, MD5': (url) => post(url + PATHS.v2pay, v2Pay(), xmlHeaders),
  'v2 pay, HMAC-SHA256 without sign_type': (url) =>
    post(url + PATHS.v2pay, v2Pay({ algorithm: 'HMAC-SHA256' }), xmlHeaders),
  'v2 pay, result_code FAIL': (url) => post(url + PATHS.v2pay, v2Pay({ resultCode: 'FAIL' }), xmlHeaders),
  'v2 bad sign': (url) => post(url + PATHS.v2pay, v2Pay({ badSign: true }), xmlHeaders),
  'v2 with a DOCTYPE': (url) => post(url + PATHS.v2pay, v2Pay({ doctype: true }), xmlHeaders),
  'v2 same notification twice': async (url) => {
    const body = v2Pay();
    return `${await post(url + PATHS.v2pay, body, xmlHeaders)} then ${await post(url + PATHS.v2pay, body, xmlHeaders)}`;
  },
  'v2 refund': (url) => post(url + PATHS.v2refund, v2Refund(), xmlHeaders),
  'v2 refund on the v3 refund URL': (url) => post(url + PATHS.v3refund, v2Refund(), xmlHeaders),
  'v2 refund under another key': (url) => post(url + PATHS.v2refund, v2Refund({ key: 'y'.repeat(32) }), xmlHeaders),
};

// ── what a correct handler answers, and what each bug changes ────────────────────────────────────────

const V3_ACK = '204';
const V3_SIGN_FAIL = '401 FAIL 签名验证失败';
const V3_UNKNOWN_SERIAL = '401 FAIL unknown Wechatpay-Serial';
const V2_ACK = '200 xml SUCCESS OK';
const V2_PLAIN = '200 text/plain success';
const NOT_JSON = '400 {"error":"invalid JSON body"}';
const DUPLICATE_ORDER =
  '500 text/plain IntegrityError: duplicate key value violates unique constraint "orders_out_trade_no_key"';

const CORRECT: Record<string, string> = {
  'v3 pay, public key': V3_ACK,
  'v3 pay, certificate': V3_ACK,
  'v3 refund': V3_ACK,
  'v3 pay, other key order and whitespace': V3_ACK,
  'v3 bad signature': V3_SIGN_FAIL,
  'v3 SIGNTEST probe': V3_SIGN_FAIL,
  'v3 without signature headers': V3_SIGN_FAIL,
  'v3 timestamp 6 minutes old': V3_SIGN_FAIL,
  'v3 unknown serial': V3_UNKNOWN_SERIAL,
  'v3 other APIv3 key': '400 FAIL 解密失败',
  'v3 same notification twice': `${V3_ACK} then ${V3_ACK}`,
  'v3 three copies at once': [V3_ACK, V3_ACK, V3_ACK].join(' | '),
  'v2 pay, MD5': V2_ACK,
  'v2 pay, HMAC-SHA256 without sign_type': V2_ACK,
  'v2 pay, result_code FAIL': V2_ACK,
  'v2 bad sign': '200 xml FAIL 签名失败',
  'v2 with a DOCTYPE': '200 xml FAIL 报文格式错误',
  'v2 same notification twice': `${V2_ACK} then ${V2_ACK}`,
  'v2 refund': V2_ACK,
  'v2 refund on the v3 refund URL': V2_ACK,
  'v2 refund under another key': '200 xml FAIL 解密失败',
};

const V2_PATH_PROBES = Object.keys(CORRECT).filter(
  (name) => name.startsWith('v2') && name !== 'v2 refund on the v3 refund URL',
);
/** v3 probes signed with the WeChat Pay public key (PUB_KEY_ID_…) and carrying their headers. */
const PUBLIC_KEY_SIGNED = Object.keys(CORRECT).filter(
  (name) =>
    name.startsWith('v3') &&
    !['v3 pay, certificate', 'v3 without signature headers', 'v3 unknown serial'].includes(name),
);

/** The correct answers of `names` with each single answer (of "a then b", "a | b | c") mapped; unchanged rows dropped. */
function changes(names: readonly string[], map: (answer: string) => string): Record<string, string> {
  const changed = names.map((name) => [
    name,
    CORRECT[name]!.split(/( then | \| )/)
      .map((part, i) => (i % 2 ? part : map(part)))
      .join(''),
  ]);
  return Object.fromEntries(changed.filter(([name, answer]) => answer !== CORRECT[name!]));
}

const CHANGES: Record<string, Record<string, string>> = {
  'xml-as-json': changes(V2_PATH_PROBES, () => NOT_JSON),
  'reserialize-compact': { 'v3 pay, other key order and whitespace': V3_SIGN_FAIL },
  // Every genuine v3 body differs from its json.dumps (', ' separators, \u escapes of 支付成功), and
  // the signature is checked before decryption, so the other-APIv3-key case now fails there too.
  'reserialize-default': changes(PUBLIC_KEY_SIGNED.concat('v3 pay, certificate'), (answer) =>
    answer === V3_ACK || answer.startsWith('400') ? V3_SIGN_FAIL : answer,
  ),
  'unique-order': {
    'v3 same notification twice': `${V3_ACK} then ${DUPLICATE_ORDER}`,
    'v3 three copies at once': [V3_ACK, DUPLICATE_ORDER, DUPLICATE_ORDER].join(' | '),
    'v2 same notification twice': `${V2_ACK} then ${DUPLICATE_ORDER}`,
  },
  'v2-plain-text': changes(
    Object.keys(CORRECT).filter((name) => name.startsWith('v2')),
    (answer) => (answer === V2_ACK ? V2_PLAIN : answer),
  ),
  'refund-key-raw': changes(['v2 refund', 'v2 refund on the v3 refund URL'], () => '200 xml FAIL 解密失败'),
  'v3-200-fail': {
    ...changes(
      [
        'v3 bad signature',
        'v3 SIGNTEST probe',
        'v3 without signature headers',
        'v3 timestamp 6 minutes old',
        'v3 unknown serial',
      ],
      () => '200 FAIL 签名错误',
    ),
    'v3 other APIv3 key': '200 FAIL 解密失败',
  },
  'headers-optional': { 'v3 without signature headers': V3_ACK },
  'no-timestamp-window': { 'v3 timestamp 6 minutes old': V3_ACK },
  'cert-only': changes(PUBLIC_KEY_SIGNED, () => V3_UNKNOWN_SERIAL),
};

async function probeAll(url: string): Promise<Record<string, string>> {
  const answers: Record<string, string> = {};
  for (const [name, probe] of Object.entries(PROBES)) answers[name] = await probe(url);
  return answers;
}

const unavailable = independentHandlerUnavailableReason();
const title = 'independent handler (handler.py) on its own';

describe.skipIf(unavailable !== null)(unavailable ? `${title} — skipped: ${unavailable}` : title, () => {
  it('the correct handler answers as WeChat documents: acks genuine notifications (once per order), rejects forged ones', async () => {
    const handler = await startIndependentHandler(HANDLER_CONFIG);
    try {
      expect(await probeAll(handler.url)).toEqual(CORRECT);
      expect(handler.log()).toMatch(/pay \d+ duplicate/);
    } finally {
      await handler.close();
    }
  });

  describe('each bug alone', () => {
    // One handler per bug, started together: a python start is mostly waiting.
    const handlers = new Map<string, StartedIndependentHandler>();
    beforeAll(async () => {
      const started = await Promise.allSettled(
        Object.keys(CHANGES).map(async (bug) => {
          handlers.set(bug, await startIndependentHandler({ ...HANDLER_CONFIG, bugs: [bug as IndependentHandlerBug] }));
        }),
      );
      const failed = started.find((result) => result.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }, 60_000);
    afterAll(async () => {
      await Promise.all([...handlers.values()].map((handler) => handler.close()));
    });

    it.each(Object.keys(CHANGES))('%s changes exactly the answers that bug implies', async (bug) => {
      expect(Object.keys(CHANGES[bug]!).length).toBeGreaterThan(0);
      expect(await probeAll(handlers.get(bug)!.url)).toEqual({ ...CORRECT, ...CHANGES[bug] });
    });
  });

  it('slow=<ms> answers that long after the request arrived, and answers the same', async () => {
    const handler = await startIndependentHandler({ ...HANDLER_CONFIG, bugs: ['slow=600'] });
    try {
      for (const name of ['v3 pay, public key', 'v2 pay, MD5'] as const) {
        const started = performance.now();
        expect(await PROBES[name]!(handler.url)).toBe(CORRECT[name]);
        expect(performance.now() - started).toBeGreaterThanOrEqual(600);
      }
    } finally {
      await handler.close();
    }
  });

  it('refuses an unknown bug name, and says why it did not start', async () => {
    await expect(
      startIndependentHandler({ ...HANDLER_CONFIG, bugs: ['no-such-bug' as IndependentHandlerBug] }),
    ).rejects.toThrow(/did not start[\s\S]*unknown bug 'no-such-bug'/);
  });

  it('stops answering once closed', async () => {
    const handler = await startIndependentHandler(HANDLER_CONFIG);
    await handler.close();
    await expect(fetch(handler.url + PATHS.v3pay, { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('exits by itself when its parent goes away (stdin closes), so no handler outlives a crashed test run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-independent-handler-'));
    try {
      writeFileSync(join(dir, 'handler.json'), JSON.stringify(HANDLER_CONFIG), { mode: 0o600 });
      const run = spawnSync(PYTHON, [HANDLER_SCRIPT, '--config', join(dir, 'handler.json'), '--exit-on-stdin-eof'], {
        input: '',
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^LISTENING \d+\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
