import { request } from 'node:http';
import type { ResolvedConfig } from '../../src/config/types.js';
import {
  buildV2PayNotification,
  buildV2RefundNotification,
  buildV3Notification,
  type Notification,
} from '../../src/library/notifications.js';
import type { SentRecord } from '../../src/load/reconcile.js';

/**
 * Distinct genuine notifications for one order each (own out_trade_no, transaction_id, refund ids
 * and amounts), built with the library's builders, and the SentRecord `load` would keep for each.
 * Shared by the receiver-fault and reconciliation tests.
 */
export interface OrderNotification {
  path: string;
  notification: Notification;
  record: SentRecord;
}

export function orderNotification(
  config: ResolvedConfig,
  version: 'v2' | 'v3',
  kind: 'pay' | 'refund',
  n: number,
  amounts: { total?: number; refund?: number } = {},
): OrderNotification {
  const tag = `${version}${kind === 'pay' ? 'P' : 'R'}${String(n).padStart(6, '0')}`;
  const total = amounts.total ?? 100 + n;
  const refund = kind === 'refund' ? (amounts.refund ?? Math.max(1, Math.floor(total / 2))) : undefined;
  const record: SentRecord = {
    version,
    kind,
    outTradeNo: `T${tag}`,
    transactionId: `42000${tag}`,
    ...(kind === 'refund' ? { outRefundNo: `R${tag}`, refundId: `50000${tag}`, refund } : {}),
    total,
    acknowledged: true,
    deliveries: 1,
  };
  if (version === 'v3') {
    const v3 = config.v3!;
    const resource =
      kind === 'pay'
        ? {
            mchid: config.mchid,
            appid: config.appid,
            out_trade_no: record.outTradeNo,
            transaction_id: record.transactionId,
            trade_type: 'JSAPI',
            trade_state: 'SUCCESS',
            amount: { total, payer_total: total, currency: 'CNY', payer_currency: 'CNY' },
          }
        : {
            mchid: config.mchid,
            out_trade_no: record.outTradeNo,
            transaction_id: record.transactionId,
            out_refund_no: record.outRefundNo,
            refund_id: record.refundId,
            refund_status: 'SUCCESS',
            amount: { total, refund, payer_total: total, payer_refund: refund },
          };
    const notification = buildV3Notification({
      event: kind === 'pay' ? 'TRANSACTION.SUCCESS' : 'REFUND.SUCCESS',
      resource,
      apiV3Key: v3.apiV3Key,
      privateKey: v3.platform!.privateKeyPem,
      serial: v3.platform!.serial,
      id: `EV-${tag}`,
    });
    return { path: new URL(kind === 'pay' ? v3.notifyUrl : v3.refundNotifyUrl).pathname, notification, record };
  }
  const v2 = config.v2!;
  const notification =
    kind === 'pay'
      ? buildV2PayNotification({
          apiKey: v2.apiKey,
          fields: {
            appid: config.appid,
            mch_id: config.mchid,
            nonce_str: `N${tag}`,
            result_code: 'SUCCESS',
            return_code: 'SUCCESS',
            out_trade_no: record.outTradeNo,
            transaction_id: record.transactionId,
            total_fee: total,
            trade_type: 'JSAPI',
          },
        })
      : buildV2RefundNotification({
          apiKey: v2.apiKey,
          fields: { appid: config.appid, mch_id: config.mchid },
          reqInfo: {
            out_trade_no: record.outTradeNo,
            transaction_id: record.transactionId,
            out_refund_no: record.outRefundNo!,
            refund_id: record.refundId!,
            total_fee: total,
            refund_fee: refund!,
            refund_status: 'SUCCESS',
          },
        });
  return { path: new URL(kind === 'pay' ? v2.notifyUrl : v2.refundNotifyUrl).pathname, notification, record };
}

export interface Answer {
  status: number;
  body: string;
  ms: number;
}

/** POSTs a notification on a fresh connection (so concurrent copies really overlap). */
export function post(baseUrl: string, n: OrderNotification): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      `${baseUrl}${n.path}`,
      { method: 'POST', headers: n.notification.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(n.notification.body);
  });
}
