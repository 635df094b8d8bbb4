import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  buildCase,
  buildV2PayNotification,
  buildV2RefundNotification,
  generateTestKeys,
  judge,
  listCases,
  type NotifyConfig,
} from 'wxpay-notify';
import { createV2App } from './v2-notify-handler.js';

// A fresh TEST APIv2 key, shared by wxpay-notify (playing WeChat Pay) and the app under test.
const { apiKey } = generateTestKeys();
const app = createV2App({ apiKey });

describe('v2 notify handlers', () => {
  it('acknowledges a genuine payment notification', async () => {
    const notification = buildV2PayNotification({
      fields: {
        appid: 'wx2421b1c4370ec43b',
        mch_id: '1900000109',
        nonce_str: 'N1',
        out_trade_no: 'T20260101000001',
        result_code: 'SUCCESS',
        return_code: 'SUCCESS',
        total_fee: 1,
        transaction_id: '4200000000000000000000000001',
      },
      apiKey,
      signType: 'HMAC-SHA256',
    });
    const res = await request(app).post('/wxpay/v2/notify').set(notification.headers).send(notification.body);
    expect(res.text).toContain('<return_code><![CDATA[SUCCESS]]></return_code>');
  });

  it('answers FAIL to a refund whose req_info was encrypted under another key', async () => {
    const notification = buildV2RefundNotification({
      fields: { appid: 'wx2421b1c4370ec43b', mch_id: '1900000109' },
      reqInfo: { out_refund_no: 'R20260101000001', refund_status: 'SUCCESS', refund_fee: 1 },
      apiKey: generateTestKeys().apiKey,
    });
    const res = await request(app).post('/wxpay/v2/refund-notify').set(notification.headers).send(notification.body);
    expect(res.text).toContain('<return_code><![CDATA[FAIL]]></return_code>');
  });

  // Every case of the wxpay-notify suite this config can send, judged by the suite's own rules.
  const config: NotifyConfig = {
    appid: 'wx2421b1c4370ec43b',
    mchid: '1900000109',
    v2: {
      notifyUrl: 'https://shop.example.com/wxpay/v2/notify',
      refundNotifyUrl: 'https://shop.example.com/wxpay/v2/refund-notify',
      apiKey,
      signType: 'HMAC-SHA256',
    },
  };

  it.each(listCases(config).map((c) => c.id))('%s', async (caseId) => {
    const built = buildCase(caseId, config);
    for (const delivery of built.deliveries) {
      const res = await request(app).post(built.path).set(delivery.headers).send(delivery.body);
      const verdict = judge(caseId, res);
      expect(verdict.pass, verdict.message).toBe(true);
    }
  });
});
