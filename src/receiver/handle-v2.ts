import { Rejection } from './rejection.js';
import type { HandleContext, HandlerResult, NotifyKind, ReceiverLogEntry, ReceiverOptions } from './types.js';
import type { Reply } from './reply.js';
import { V2_STEPS } from './v2-steps.js';

/**
 * Checks one v2 (XML) notification and decides the answer. No I/O: the caller reads the body and
 * writes the reply. Pay: the sign must verify. Refund: `req_info` must decrypt.
 */
export function handleV2(
  body: string,
  kind: NotifyKind,
  opts: ReceiverOptions,
  context: HandleContext = {},
): HandlerResult {
  const steps = { ...V2_STEPS, ...context.steps?.v2 };
  const entry = (
    reply: Reply,
    fields: Omit<ReceiverLogEntry, 'path' | 'version' | 'kind' | 'status'>,
  ): HandlerResult => ({
    ...reply,
    log: { path: context.path ?? '', version: 'v2', kind, status: reply.status, ...fields },
  });

  try {
    const apiKey = opts.v2?.apiKey;
    if (!apiKey) throw new Rejection(500, 'this receiver has no APIv2 key (APIv2密钥) configured');
    const fields = steps.parse(body);

    if (kind === 'pay') {
      steps.verifySign(fields, apiKey);
      return entry(steps.ack(), { outcome: 'ack', notification: fields, eventId: fields.transaction_id });
    }

    const refund = steps.openRefund(fields, apiKey);
    // One refund can be reported more than once with different results (CHANGE, later SUCCESS),
    // so the status is part of what makes a refund notification a duplicate.
    const eventId = refund.out_refund_no && `${refund.out_refund_no}/${refund.refund_status ?? ''}`;
    return entry(steps.ack(), { outcome: 'ack', notification: refund, eventId });
  } catch (error) {
    if (!(error instanceof Rejection)) throw error;
    return entry(steps.reject(error.message), { outcome: 'reject', reason: error.message });
  }
}
