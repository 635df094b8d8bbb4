import { describe, expect, it } from 'vitest';
import {
  buildV2PayNotification,
  buildV2RefundNotification,
  buildV3Notification,
  generateTestKeys,
} from '../../src/library/index.js';
import { parseFlatXml } from '../../src/protocol/v2/flat-xml.js';
import { decryptReqInfo } from '../../src/protocol/v2/req-info.js';
import { inferV2SignType, verifyV2Sign } from '../../src/protocol/v2/sign-fields.js';
import { decryptResource } from '../../src/protocol/v3/aes-gcm.js';
import { v3SignMessage, verifyV3 } from '../../src/protocol/v3/sign-message.js';

/** The library's builders, checked with the Node reference code (src/protocol), as a merchant would verify. */
const keys = generateTestKeys();

describe('buildV3Notification', () => {
  const base = { apiV3Key: keys.apiV3Key, privateKey: keys.publicKey.privateKeyPem, serial: keys.publicKey.keyId };

  it('signs the exact body sent and encrypts the resource under the APIv3 key', () => {
    const resource = { out_trade_no: 'T1', attach: '中文 🎉', amount: { total: 1 } };
    const n = buildV3Notification({ ...base, event: 'REFUND.SUCCESS', resource });
    const h = n.headers;
    expect(h['Content-Type']).toBe('application/json');
    expect(h['Wechatpay-Serial']).toBe(keys.publicKey.keyId);
    expect(h['Wechatpay-Signature-Type']).toBe('WECHATPAY2-SHA256-RSA2048');
    expect(
      verifyV3(
        v3SignMessage(h['Wechatpay-Timestamp']!, h['Wechatpay-Nonce']!, n.body),
        h['Wechatpay-Signature']!,
        keys.publicKey.publicKeyPem,
      ),
    ).toBe(true);
    const envelope = JSON.parse(n.body);
    expect(envelope).toEqual(n.envelope);
    expect(envelope.event_type).toBe('REFUND.SUCCESS');
    expect(envelope.resource.associated_data).toBe('refund');
    expect(
      JSON.parse(decryptResource(envelope.resource.ciphertext, keys.apiV3Key, envelope.resource.nonce, 'refund')),
    ).toEqual(resource);
    // The signature binds the body: one changed byte and it no longer verifies.
    expect(
      verifyV3(
        v3SignMessage(h['Wechatpay-Timestamp']!, h['Wechatpay-Nonce']!, n.body + ' '),
        h['Wechatpay-Signature']!,
        keys.publicKey.publicKeyPem,
      ),
    ).toBe(false);
  });

  it("takes a given timestamp, nonce, id and create_time, and keeps WeChat's key order", () => {
    const n = buildV3Notification({
      ...base,
      resource: '{"a": 1}',
      timestamp: 1_700_000_000,
      nonce: 'N'.repeat(32),
      id: 'EV-1',
      createTime: '2023-11-15T06:13:20+08:00',
    });
    expect(n.headers['Wechatpay-Timestamp']).toBe('1700000000');
    expect(n.headers['Wechatpay-Nonce']).toBe('N'.repeat(32));
    expect(Object.keys(JSON.parse(n.body))).toEqual([
      'id',
      'create_time',
      'resource_type',
      'event_type',
      'summary',
      'resource',
    ]);
    expect(n.envelope.id).toBe('EV-1');
    expect(n.envelope.create_time).toBe('2023-11-15T06:13:20+08:00');
    expect(
      verifyV3(
        v3SignMessage('1700000000', 'N'.repeat(32), n.body),
        n.headers['Wechatpay-Signature']!,
        keys.publicKey.publicKeyPem,
      ),
    ).toBe(true);
    expect(
      decryptResource(n.envelope.resource.ciphertext, keys.apiV3Key, n.envelope.resource.nonce, 'transaction'),
    ).toBe('{"a":1}');
  });

  it('names what is wrong with its input', () => {
    expect(() => buildV3Notification({ ...base, resource: {}, apiV3Key: '' })).toThrow(/apiV3Key is required/);
    expect(() => buildV3Notification({ ...base, resource: {}, privateKey: 'not a key' })).toThrow(
      /privateKey is not a PEM private key/,
    );
    expect(() => buildV3Notification({ ...base, resource: {}, event: 'PAY.DONE' as never })).toThrow(
      /event must be one of TRANSACTION.SUCCESS/,
    );
  });
});

describe('buildV2PayNotification', () => {
  const fields = {
    appid: 'wx2421b1c4370ec43b',
    mch_id: '1900000109',
    attach: '<&> 中文',
    total_fee: 1,
    out_trade_no: 'T1',
  };

  it('signs every field with the APIv2 key: MD5 without sign_type, HMAC-SHA256 with it by default', () => {
    for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
      const n = buildV2PayNotification({ fields, apiKey: keys.apiKey, signType });
      expect(n.headers['Content-Type']).toBe('text/xml');
      const sent = parseFlatXml(n.body);
      expect(sent.root).toBe('xml');
      expect(sent.fields.attach).toBe('<&> 中文');
      expect(sent.fields.total_fee).toBe('1');
      expect(sent.fields.sign_type).toBe(signType === 'MD5' ? undefined : 'HMAC-SHA256');
      expect(inferV2SignType(sent.fields)).toBe(signType);
      expect(verifyV2Sign(sent.fields, keys.apiKey)).toBe(true);
      expect(verifyV2Sign(sent.fields, keys.apiV3Key)).toBe(false);
    }
  });

  it('leaves sign_type out when asked (WeChat often does on HMAC-SHA256)', () => {
    const sent = parseFlatXml(
      buildV2PayNotification({ fields, apiKey: keys.apiKey, signType: 'HMAC-SHA256', signTypeField: false }).body,
    );
    expect(sent.fields.sign_type).toBeUndefined();
    expect(sent.fields.sign).toHaveLength(64);
    expect(verifyV2Sign(sent.fields, keys.apiKey)).toBe(true);
  });

  it('refuses a value that cannot travel in CDATA', () => {
    expect(() => buildV2PayNotification({ fields: { attach: 'a]]>b' }, apiKey: keys.apiKey })).toThrow(
      /fields.attach contains "]]>"/,
    );
  });
});

describe('buildV2RefundNotification', () => {
  it('carries no sign and encrypts the <root> fields into req_info under md5(APIv2 key)', () => {
    const n = buildV2RefundNotification({
      fields: { appid: 'wx2421b1c4370ec43b', mch_id: '1900000109' },
      reqInfo: { out_refund_no: 'R1', refund_status: 'SUCCESS', refund_fee: 1 },
      apiKey: keys.apiKey,
      nonceStr: 'NONCE',
    });
    const outer = parseFlatXml(n.body);
    expect(Object.keys(outer.fields)).toEqual(['return_code', 'appid', 'mch_id', 'nonce_str', 'req_info']);
    expect(outer.fields.nonce_str).toBe('NONCE');
    const inner = parseFlatXml(decryptReqInfo(outer.fields.req_info!, keys.apiKey));
    expect(inner.root).toBe('root');
    expect(inner.fields).toEqual({ out_refund_no: 'R1', refund_status: 'SUCCESS', refund_fee: '1' });
    // Under another key AES-ECB gives noise: usually its padding is refused, and about once in 256
    // keys the last byte happens to read as valid padding. Either way the fields are not there.
    let other: string | undefined;
    try {
      other = decryptReqInfo(outer.fields.req_info!, keys.apiV3Key);
    } catch {
      other = undefined;
    }
    expect(other ?? '').not.toContain('<out_refund_no>');
  });
});
