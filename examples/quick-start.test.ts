import request from 'supertest';
import { expect, it } from 'vitest';
import { buildCase, generateTestKeys, judge, listCases, type NotifyConfig } from 'wxpay-notify';
import { createV3App } from './v3-notify-handler.js'; // your handler

// Fresh TEST keys: wxpay-notify signs as WeChat Pay would, and the app under test trusts them.
const keys = generateTestKeys();
const app = createV3App({ apiV3Key: keys.apiV3Key, trusted: { [keys.publicKey.keyId]: keys.publicKey.publicKeyPem } });
const config: NotifyConfig = {
  appid: 'wx2421b1c4370ec43b',
  mchid: '1900000109',
  v3: {
    notifyUrl: 'https://shop.example.com/wxpay/v3/notify',
    refundNotifyUrl: 'https://shop.example.com/wxpay/v3/refund-notify',
    apiV3Key: keys.apiV3Key,
    platform: { privateKeyPem: keys.publicKey.privateKeyPem, serial: keys.publicKey.keyId },
  },
};

// Every case of the suite this config can send, judged by the suite's own rules.
it.each(listCases(config).map((c) => c.id))('%s', async (caseId) => {
  const built = buildCase(caseId, config);
  for (const delivery of built.deliveries) {
    const res = await request(app).post(built.path).set(delivery.headers).send(delivery.body);
    const verdict = judge(caseId, res);
    expect(verdict.pass, verdict.message).toBe(true);
  }
});
