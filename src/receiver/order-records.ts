import type { VerifiedNotification } from './notification.js';

/**
 * What the reference receiver's business logic did with each notification, as a shop's database
 * would hold it: payments by out_trade_no, refunds by out_refund_no, each with the amount it was
 * recorded with and how many times it was processed. `load` reconciles against this through the
 * lookup (`GET /orders/{out_trade_no}`, `GET /refunds/{out_refund_no}`; docs/load-lookup.md).
 *
 * In memory and unbounded, which suits a test receiver: ~200 bytes a record, so a 60 s burst at
 * 1,500/s stays under 20 MB.
 */
export interface PaymentRecord {
  version: 'v2' | 'v3';
  out_trade_no: string;
  transaction_id: string;
  /** 订单金额 in fen (分): v3 amount.total, v2 total_fee. */
  total: number | null;
  /** How many times the business effect ran; 1 for an idempotent handler. */
  times_processed: number;
}

export interface RefundRecord {
  version: 'v2' | 'v3';
  out_trade_no: string;
  transaction_id: string;
  out_refund_no: string;
  refund_id: string;
  refund_status: string;
  /** 退款金额 in fen: v3 amount.refund, v2 refund_fee. */
  refund: number | null;
  /** The order's total in fen: v3 amount.total, v2 total_fee. */
  total: number | null;
  times_processed: number;
}

/** One notification's order facts, read from the decrypted resource (v3) or fields (v2). */
export interface OrderFacts {
  kind: 'pay' | 'refund';
  version: 'v2' | 'v3';
  out_trade_no: string;
  transaction_id: string;
  out_refund_no: string;
  refund_id: string;
  refund_status: string;
  total: number | null;
  refund: number | null;
}

const text = (value: unknown): string =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
const fen = (value: unknown): number | null => {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) ? n : null;
};

/** The facts a shop stores, from a verified notification of either version. */
export function orderFacts(n: Pick<VerifiedNotification, 'version' | 'kind' | 'notification'>): OrderFacts {
  const f = (n.notification ?? {}) as Record<string, unknown>;
  const amount = (typeof f.amount === 'object' && f.amount !== null ? f.amount : {}) as Record<string, unknown>;
  const v3 = n.version === 'v3';
  return {
    kind: n.kind,
    version: n.version,
    out_trade_no: text(f.out_trade_no),
    transaction_id: text(f.transaction_id),
    out_refund_no: text(f.out_refund_no),
    refund_id: text(f.refund_id),
    refund_status: text(f.refund_status),
    total: fen(v3 ? amount.total : f.total_fee),
    refund: n.kind === 'refund' ? fen(v3 ? amount.refund : f.refund_fee) : null,
  };
}

export interface OrderRecords {
  /** Records one processed notification (the business effect); counts a repeat as processed again. */
  add(facts: OrderFacts): void;
  /** Notes a notification that was acknowledged but deliberately not recorded (the drop fault). */
  drop(facts: OrderFacts): void;
  payment(outTradeNo: string): PaymentRecord | undefined;
  refund(outRefundNo: string): RefundRecord | undefined;
  /** The refunds recorded for an order, in the order they were recorded. */
  refundsOf(outTradeNo: string): RefundRecord[];
  /** Notifications acknowledged but deliberately not recorded (the drop fault), in order. */
  readonly dropped: OrderFacts[];
  /** Counts for a summary line. */
  readonly size: { payments: number; refunds: number };
}

export function createOrderRecords(): OrderRecords {
  const payments = new Map<string, PaymentRecord>();
  const refunds = new Map<string, RefundRecord>();
  const refundKeysByOrder = new Map<string, string[]>();
  const dropped: OrderFacts[] = [];
  return {
    add(facts) {
      if (facts.kind === 'pay') {
        const known = payments.get(facts.out_trade_no);
        if (known) known.times_processed++;
        else
          payments.set(facts.out_trade_no, {
            version: facts.version,
            out_trade_no: facts.out_trade_no,
            transaction_id: facts.transaction_id,
            total: facts.total,
            times_processed: 1,
          });
        return;
      }
      const known = refunds.get(facts.out_refund_no);
      if (known) {
        known.times_processed++;
        known.refund_status = facts.refund_status || known.refund_status;
        return;
      }
      refunds.set(facts.out_refund_no, {
        version: facts.version,
        out_trade_no: facts.out_trade_no,
        transaction_id: facts.transaction_id,
        out_refund_no: facts.out_refund_no,
        refund_id: facts.refund_id,
        refund_status: facts.refund_status,
        refund: facts.refund,
        total: facts.total,
        times_processed: 1,
      });
      const keys = refundKeysByOrder.get(facts.out_trade_no) ?? [];
      keys.push(facts.out_refund_no);
      refundKeysByOrder.set(facts.out_trade_no, keys);
    },
    drop(facts) {
      dropped.push(facts);
    },
    payment: (outTradeNo) => payments.get(outTradeNo),
    refund: (outRefundNo) => refunds.get(outRefundNo),
    refundsOf: (outTradeNo) => (refundKeysByOrder.get(outTradeNo) ?? []).map((k) => refunds.get(k)!),
    dropped,
    get size() {
      return { payments: payments.size, refunds: refunds.size };
    },
  };
}
