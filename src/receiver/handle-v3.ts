import type { IncomingHttpHeaders } from 'node:http';
import { handleV2 } from './handle-v2.js';
import { Rejection } from './rejection.js';
import type { HandleContext, HandlerResult, NotifyKind, ReceiverLogEntry, ReceiverOptions } from './types.js';
import type { Reply } from './reply.js';
import { V2_STEPS } from './v2-steps.js';
import { keyRingFrom } from './v3-key-ring.js';
import { V3_STEPS } from './v3-steps.js';

/**
 * Refunds made by hand in the merchant platform (商户平台) can arrive as v2 XML even at a v3
 * merchant's refund URL, so a v3 refund path must recognise XML and hand it to the v2 handler.
 * The body decides, not Content-Type: a v3 JSON body mislabelled as XML would otherwise get v2's
 * 200 + FAIL, which a v3 sender reads as "received" and never retries.
 */
function isXml(rawBody: string): boolean {
  return rawBody.trimStart().startsWith('<');
}

/**
 * Checks one v3 (JSON) notification and decides the answer. No I/O: the caller reads the body and
 * writes the reply. Order matters: authenticate (headers, clock, signature over the raw body)
 * before trusting anything in the body, then decrypt.
 */
export function handleV3(
  rawBody: string,
  headers: IncomingHttpHeaders,
  kind: NotifyKind,
  opts: ReceiverOptions,
  context: HandleContext = {},
): HandlerResult {
  const steps = { ...V3_STEPS, ...context.steps?.v3 };

  if (kind === 'refund' && isXml(rawBody)) {
    if (opts.v2) return handleV2(rawBody, 'refund', opts, context);
    const reason =
      'received a v2 XML refund notification (refunds made in 商户平台 may arrive as v2), but no APIv2 key (APIv2密钥) is configured to decrypt it';
    const reply = { ...V2_STEPS, ...context.steps?.v2 }.reject(reason);
    return {
      ...reply,
      log: { path: context.path ?? '', version: 'v2', kind, status: reply.status, outcome: 'reject', reason },
    };
  }

  const entry = (
    reply: Reply,
    fields: Omit<ReceiverLogEntry, 'path' | 'version' | 'kind' | 'status'>,
  ): HandlerResult => ({
    ...reply,
    log: { path: context.path ?? '', version: 'v3', kind, status: reply.status, ...fields },
  });

  try {
    if (!opts.v3) throw new Rejection(500, 'this receiver has no v3 configuration');
    const signature = steps.readHeaders(headers);
    steps.checkTimestamp(signature.timestamp, (opts.now ?? Date.now)());
    steps.verifySignature({ headers: signature, rawBody }, keyRingFrom(opts.v3.publicKeys));

    const envelope = steps.parseEnvelope(rawBody);
    const notification = steps.decrypt(envelope.resource, opts.v3.apiV3Key);
    return entry(steps.ack(), { outcome: 'ack', notification, eventId: envelope.id });
  } catch (error) {
    if (!(error instanceof Rejection)) throw error;
    return entry(steps.reject(error.status, error.message), { outcome: 'reject', reason: error.message });
  }
}
