import { createHash } from 'node:crypto';
import type { CaseDefinition } from '../cases/types.js';
import type { OrderConfig } from '../config/types.js';

/** How many characters of an order number identify the case. */
const CODE_LENGTH = 6;

/** Six digits derived from a name: stable across regenerations, different for every case id. */
export function caseCode(name: string): string {
  const n = parseInt(createHash('sha1').update(name).digest('hex').slice(0, 12), 16);
  return String(n % 10 ** CODE_LENGTH).padStart(CODE_LENGTH, '0');
}

/**
 * The configured number with its last six characters replaced by the case code (appended when the
 * number is short), so it keeps its look and length limit: T20260101000001 → T20260101849109 (v2.pay.success).
 */
export function withCaseCode(base: string, code: string): string {
  // By code point: a UTF-16 slice could cut a non-BMP character in half (sent as U+FFFD).
  const chars = [...base];
  return chars.length >= 2 * CODE_LENGTH ? chars.slice(0, -CODE_LENGTH).join('') + code : base + code;
}

/**
 * The order numbers one case sends (collection variable name → value). Every case has its own, so a
 * handler that refuses an order notified twice fails only the redelivery cases, which repeat one
 * notification on purpose. The combined payment has a second sub-order and a combined order number.
 */
export function caseOrder(order: OrderConfig, def: Pick<CaseDefinition, 'id' | 'requires'>): Record<string, string> {
  const numbers = (name: string): Record<string, string> => {
    const code = caseCode(name);
    return {
      out_trade_no: withCaseCode(order.outTradeNo, code),
      transaction_id: withCaseCode(order.transactionId, code),
      out_refund_no: withCaseCode(order.outRefundNo, code),
      refund_id: withCaseCode(order.refundId, code),
    };
  };
  const own = numbers(def.id);
  if (!def.requires.includes('combine')) return own;
  const second = numbers(`${def.id}#2`);
  return {
    ...own,
    out_trade_no_2: second.out_trade_no!,
    transaction_id_2: second.transaction_id!,
    combine_out_trade_no: withCaseCode(order.outTradeNo, caseCode(`${def.id}#combine`)),
  };
}
