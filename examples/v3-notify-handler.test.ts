import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { buildCase, buildV3Notification, generateTestKeys, judge, listCases, type NotifyConfig } from 'wxpay-notify';
import { createV3App } from './v3-notify-handler.js';

// Fresh TEST keys: wxpay-notify signs as WeChat Pay would, and the app under test trusts these.
const keys = generateTestKeys();
const app = createV3App({
  apiV3Key: keys.apiV3Key,
  trusted: {
    [keys.publicKey.keyId]: keys.publicKey.publicKeyPem,
    [keys.certificate.serial]: keys.certificate.certificatePem,
  },
});

describe('v3 notify handler', () => {
  it('acknowledges a genuine payment notification with 204', async () => {
    const notification = buildV3Notification({
      event: 'TRANSACTION.SUCCESS',
      resource: { out_trade_no: 'T20260101000001', trade_state: 'SUCCESS', amount: { total: 1, currency: 'CNY' } },
      apiV3Key: keys.apiV3Key,
      privateKey: keys.publicKey.privateKeyPem,
      serial: keys.publicKey.keyId,
    });
    const res = await request(app).post('/wxpay/v3/notify').set(notification.headers).send(notification.body);
    expect(res.status).toBe(204);
  });

  it('rejects a notification whose Wechatpay-Timestamp is 10 minutes old', async () => {
    const notification = buildV3Notification({
      resource: { out_trade_no: 'T20260101000001' },
      apiV3Key: keys.apiV3Key,
      privateKey: keys.publicKey.privateKeyPem,
      serial: keys.publicKey.keyId,
      timestamp: Math.floor(Date.now() / 1000) - 600,
    });
    const res = await request(app).post('/wxpay/v3/notify').set(notification.headers).send(notification.body);
    expect(res.status).toBe(401);
  });

  // Every case of the wxpay-notify suite this config can send, judged by the suite's own rules.
  const config: NotifyConfig = {
    appid: 'wx2421b1c4370ec43b',
    mchid: '1900000109',
    v3: {
      notifyUrl: 'https://shop.example.com/wxpay/v3/notify',
      refundNotifyUrl: 'https://shop.example.com/wxpay/v3/refund-notify',
      apiV3Key: keys.apiV3Key,
      platform: { privateKeyPem: keys.publicKey.privateKeyPem, serial: keys.publicKey.keyId },
      platformCertificate: { privateKeyPem: keys.certificate.privateKeyPem, serial: keys.certificate.serial },
    },
  };

  it.each(listCases(config).map((c) => c.id))('%s', async (caseId) => {
    const built = buildCase(caseId, config);
    const send = (d: (typeof built.deliveries)[number]) => request(app).post(built.path).set(d.headers).send(d.body);
    // The first `concurrent` deliveries arrive at the same instant, the rest one after another.
    const answers = await Promise.all(built.deliveries.slice(0, built.concurrent).map(send));
    for (const d of built.deliveries.slice(built.concurrent)) answers.push(await send(d));
    for (const res of answers) {
      const verdict = judge(caseId, res);
      expect(verdict.pass, verdict.message).toBe(true);
    }
  });
});
