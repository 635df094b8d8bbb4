import type { OrderRecords, RefundRecord } from './order-records.js';
import type { Reply } from './reply.js';

/**
 * The lookup `load` reconciles against (docs/load-lookup.md): what this receiver recorded, by the
 * merchant's own order number, in the shape a shop's order API typically answers.
 *
 *   GET /orders/{out_trade_no}   the payment and its refunds; 404 when nothing was recorded
 *   GET /refunds/{out_refund_no} one refund; 404 when it was not recorded
 */
export const LOOKUP_PREFIXES = { order: '/orders/', refund: '/refunds/' } as const;

const json = (status: number, value: unknown): Reply => ({
  status,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify(value),
});
const notFound = (what: string): Reply =>
  json(404, { code: 'NOT_FOUND', message: `no notification recorded for ${what}` });

const refundView = (r: RefundRecord) => ({
  out_trade_no: r.out_trade_no,
  out_refund_no: r.out_refund_no,
  refund_id: r.refund_id,
  refund_status: r.refund_status,
  amount: { refund: r.refund, total: r.total },
  times_processed: r.times_processed,
});

/** The lookup's answer for a request path, or undefined when the path is not a lookup path. */
export function answerLookup(records: OrderRecords, method: string, path: string): Reply | undefined {
  const prefix = path.startsWith(LOOKUP_PREFIXES.order)
    ? 'order'
    : path.startsWith(LOOKUP_PREFIXES.refund)
      ? 'refund'
      : undefined;
  if (!prefix) return undefined;
  if (method !== 'GET' && method !== 'HEAD')
    return {
      ...json(405, { code: 'METHOD_NOT_ALLOWED', message: 'the lookup answers GET' }),
      headers: { Allow: 'GET, HEAD' },
    };
  let id: string;
  try {
    id = decodeURIComponent(path.slice(LOOKUP_PREFIXES[prefix].length));
  } catch {
    return json(400, { code: 'PARAM_ERROR', message: 'the id in the path is not valid percent-encoding' });
  }
  if (!id || id.includes('/'))
    return json(400, {
      code: 'PARAM_ERROR',
      message: `expected ${LOOKUP_PREFIXES[prefix]}{${prefix === 'order' ? 'out_trade_no' : 'out_refund_no'}}`,
    });

  if (prefix === 'refund') {
    const refund = records.refund(id);
    return refund ? json(200, refundView(refund)) : notFound(`out_refund_no ${id}`);
  }
  const payment = records.payment(id);
  const refunds = records.refundsOf(id).map(refundView);
  if (!payment && refunds.length === 0) return notFound(`out_trade_no ${id}`);
  // A refund can be recorded while its payment notification was lost: the order then exists, unpaid,
  // as it would in a shop's table (trade_state as in WeChat's own order query).
  return json(
    200,
    payment
      ? {
          out_trade_no: id,
          transaction_id: payment.transaction_id,
          trade_state: 'SUCCESS',
          amount: { total: payment.total },
          times_processed: payment.times_processed,
          refunds,
        }
      : { out_trade_no: id, trade_state: 'NOTPAY', refunds },
  );
}
