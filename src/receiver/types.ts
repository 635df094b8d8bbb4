import type { IncomingHttpHeaders, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Reply } from './reply.js';
import type { ReceiverFaults } from './faults.js';
import type { OrderRecords } from './order-records.js';
import type { V2Steps } from './v2-steps.js';
import type { V3Steps } from './v3-steps.js';

import type { NotifyKind, NotifyVersion, VerifiedNotification } from './notification.js';

export type { NotifyKind, NotifyVersion, VerifiedNotification };

export interface ReceiverOptions {
  /** Omit to serve no v2 paths (a v2 XML refund reaching the v3 refund path is then rejected). */
  v2?: {
    /** APIv2 key (APIv2密钥): verifies pay signs and decrypts refund req_info. Secret. */
    apiKey: string;
    payPath: string;
    refundPath: string;
  };
  v3?: {
    /** APIv3 key (APIv3密钥): decrypts resource.ciphertext. Secret. */
    apiV3Key: string;
    /**
     * Trusted WeChat Pay keys by the Wechatpay-Serial that announces them: `PUB_KEY_ID_…` → the
     * WeChat Pay public key (微信支付公钥) PEM, certificate serial → the platform certificate
     * (平台证书) PEM or its public key. Keep both during a key-mode switch-over.
     */
    publicKeys: Record<string, string>;
    payPath: string;
    refundPath: string;
  };
  /** Clock in milliseconds since the epoch; injectable so tests can pin time. */
  now?: () => number;
  /** Called for every answered notification (after the reply is decided). Never receives keys. */
  log?: (entry: ReceiverLogEntry) => void;
  /**
   * Your business logic: runs once per notification id, only after the notification verified.
   * Check the amount against your own order record here (WeChat warns about forged "假通知").
   * Throw to refuse the notification; WeChat will then deliver it again later.
   */
  onNotification?: (notification: VerifiedNotification) => void | Promise<void>;
  /**
   * Where processed notifications are recorded (payments by out_trade_no, refunds by
   * out_refund_no), after `onNotification` succeeded; the handler then also answers the lookup
   * `GET /orders/{out_trade_no}` and `GET /refunds/{out_refund_no}` that `load` reconciles against.
   * `startReceiver` always keeps one (`createOrderRecords()`).
   */
  records?: OrderRecords;
  /** Deliberate faults for load tests and demos (none by default): see `ReceiverFaults`. */
  faults?: ReceiverFaults;
}

export interface ReceiverLogEntry {
  path: string;
  version: NotifyVersion;
  kind: NotifyKind;
  outcome: 'ack' | 'reject';
  /** Why it was rejected (what the sender is told), or a note on an acknowledgement. */
  reason?: string;
  /** Decoded fields (v2) or decrypted resource (v3), when the message got that far. */
  notification?: unknown;
  eventId?: string;
  /** True when this id was already processed: acknowledged again, not processed again. */
  duplicate?: boolean;
  /** HTTP status that was answered. */
  status: number;
  /** A deliberate fault (ReceiverFaults) that shaped this answer or its record, in words. */
  fault?: string;
}

/** A handler's answer: the reply plus the log entry describing it. */
export interface HandlerResult extends Reply {
  log: ReceiverLogEntry;
}

/** The notification type a path is configured for. */
export interface NotifyRoute {
  path: string;
  version: NotifyVersion;
  kind: NotifyKind;
}

/** A request that reached a notify path and whose body was read in full. */
export interface ReceivedRequest {
  route: NotifyRoute;
  headers: IncomingHttpHeaders;
  /** The body decoded from UTF-8 exactly once; v3 signatures are checked over these bytes. */
  rawBody: string;
  socket: Socket;
}

/**
 * Wraps the receiver's answer to one notify request. Call `next()` for the normal answer; return
 * `null` when the hook has dealt with the connection itself (e.g. destroyed the socket).
 * The reference receiver needs none; tests use hooks to build receivers with one deliberate fault.
 */
export type RequestHook = (
  request: ReceivedRequest,
  next: () => Promise<HandlerResult>,
) => Promise<HandlerResult | null>;

export interface StartedReceiver {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  close(): Promise<void>;
  /** Every answered notification, in order. */
  log: ReceiverLogEntry[];
  /** (startReceiver: always) What was processed, as the lookup answers it (and which records the drop fault lost). */
  records?: OrderRecords;
  /** The HTTP server, e.g. to watch its 'drop' events (connections refused by `faults.maxConnections`). */
  server?: Server;
}

/** What `startReceiver` returns: always with its records and server. */
export type RunningReceiver = StartedReceiver & Required<Pick<StartedReceiver, 'records' | 'server'>>;

/**
 * The building blocks of the two handlers, by name. Pass some of them to a handler (or to
 * `startReceiver`) to swap that one step; the rest stay the reference ones.
 */
export interface ReceiverSteps {
  v2?: Partial<V2Steps>;
  v3?: Partial<V3Steps>;
}

/** Where a handler is running: the request path (for the log) and any replaced steps. */
export interface HandleContext {
  path?: string;
  steps?: ReceiverSteps;
}
