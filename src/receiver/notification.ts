export type NotifyVersion = 'v2' | 'v3';
export type NotifyKind = 'pay' | 'refund';

/** A notification that passed every check, as handed to `onNotification`. */
export interface VerifiedNotification {
  version: NotifyVersion;
  kind: NotifyKind;
  /** Idempotency key: v3 envelope `id`; v2 `transaction_id`, or `out_refund_no/refund_status`. */
  eventId: string;
  /** v2: the flat fields (refund: the decrypted <root> fields). v3: the decrypted resource. */
  notification: unknown;
}
