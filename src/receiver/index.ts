/** The reference receiver: a correct WeChat Pay notify endpoint, and the blocks it is built from. */
export { startReceiver, type ListenOptions } from './start-receiver.js';
export { createNotifyHandler, type NotifyHandler, type NotifyHandlerExtras } from './notify-handler.js';
export { receiverOptionsFromConfig } from './from-config.js';
export { handleV2 } from './handle-v2.js';
export { handleV3 } from './handle-v3.js';
export { createDispatcher, type Dispatcher } from './dispatch-notify.js';
export { createProcessOnce, type ProcessOnce } from './process-once.js';
export { notifyRoutes } from './notify-routes.js';
export { readRawBody, decodeUtf8, MAX_BODY_BYTES } from './read-body.js';
export { Rejection } from './rejection.js';
export {
  createOrderRecords,
  orderFacts,
  type OrderRecords,
  type OrderFacts,
  type PaymentRecord,
  type RefundRecord,
} from './order-records.js';
export { answerLookup, LOOKUP_PREFIXES } from './lookup-routes.js';
export { checkFaults, describeFaults, SLOWDOWN_DEFAULT_DELAY_MS, type ReceiverFaults } from './faults.js';
export { keyRingFrom, type V3KeyRing } from './v3-key-ring.js';
export { V2_STEPS, parseV2Body, verifyPaySign, openRefundReqInfo, v2Ack, v2Reject, type V2Steps } from './v2-steps.js';
export {
  V3_STEPS,
  readSignatureHeaders,
  checkTimestampWindow,
  verifySignatureBySerial,
  parseV3Envelope,
  decryptV3Resource,
  v3Ack,
  v3Reject,
  type V3Steps,
  type V3SignatureHeaders,
  type V3SignedBody,
  type V3Envelope,
  type V3Resource,
} from './v3-steps.js';
export type * from './types.js';
export type * from './reply.js';
