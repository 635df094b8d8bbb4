/** One notification `load` sent, as reconciliation needs it (one per notification, not per delivery). */
export interface SentRecord {
  version: 'v2' | 'v3';
  kind: 'pay' | 'refund';
  outTradeNo: string;
  transactionId: string;
  outRefundNo?: string;
  refundId?: string;
  /** 订单金额 in fen (分). */
  total: number;
  /** 退款金额 in fen, for refunds. */
  refund?: number;
  /** Some delivery of it was acknowledged: the merchant promised WeChat it was recorded. */
  acknowledged: boolean;
  /** How many times it was delivered (copies and retries). */
  deliveries: number;
}
