import type { V2SignType, V3EventType } from '../protocol/constants.js';

/** How bad a failure is: WeChat retries or drops / forged money gets in / a recommended practice. */
export type Severity = 'protocol' | 'security' | 'advisory';
export const SEVERITIES: readonly Severity[] = ['advisory', 'protocol', 'security'];

export type Expectation = 'ack' | 'reject';

/**
 * What a case needs from the config to make sense; a case whose needs are unmet is not generated.
 * Partner (服务商) mode is not one: it changes the body of every case (read-template.ts), not which run.
 */
export type Requirement = 'v2' | 'v3' | 'v2-hmac' | 'v3-two-signers' | 'combine';

/** Changes that turn a genuine delivery into a forged or unusual one (data, never code per case). */
export interface Mutation {
  /** v2: corrupt the sign, or drop it. */
  sign?: 'bad';
  dropSign?: boolean;
  /** v2: fields whose value gets a '0' appended after signing (a forged, raised amount). */
  tamperFields?: string[];
  /** v2 refund: encrypt req_info under another key. */
  reqInfoKey?: 'other';
  /** v2 refund: pad the <root> XML (trailing spaces) to a whole number of AES blocks. */
  alignPlaintext?: boolean;
  /** v3: a wrong signature, or WeChat's probe (签名探测) prefix. */
  signature?: 'bad' | 'signtest';
  /** v3: change the body after signing. */
  tamperBody?: boolean;
  /** v3: seconds added to Wechatpay-Timestamp (signed correctly). */
  timestampOffset?: number;
  /** v3: announce a serial the merchant has never seen. */
  serial?: 'unknown';
  /** v3: leave these headers out. */
  dropHeaders?: string[];
  /** v3: encrypt the resource under another APIv3 key. */
  apiV3Key?: 'other';
  /**
   * v3: reorder envelope keys and add whitespace, or write the envelope as Python's json.dumps does
   * (signature still over the raw bytes).
   */
  layout?: 'spaced' | 'python';
}

/**
 * What a case's outcome tells the run diagnosis (judge/diagnose-run.ts) beyond its own verdict.
 * `reserialised-body`: the body is laid out as Python's json.dumps writes it (", " and ": "), so a
 * handler that verifies a re-serialised body acknowledges this case while refusing the others.
 */
export type Diagnostic = 'reserialised-body';

export interface CaseDefinition {
  /** Stable id: users filter on it and CI parses it. */
  id: string;
  /** English title with the WeChat term in brackets. */
  title: string;
  version: 'v2' | 'v3';
  kind: 'pay' | 'refund';
  /** Postman folder the case goes in. */
  folder: string;
  /** Body template under templates/ (readable XML/JSON with {{variables}}). */
  template: string;
  /** Which configured URL receives it. */
  target: 'notifyUrl' | 'refundNotifyUrl';
  /** v3 URL but v2 format: manual refunds in 商户平台 (docs/protocol.md#manual-refunds-on-the-v3-url). */
  sendTo?: 'v3';
  expect: Expectation;
  severity: Severity;
  /** Shown when the case fails the way it was built to expose. Names the fix. */
  hint: string;
  /** Where the evidence for what this case sends is thin, and what it rests on (docs/cases.md, Postman). */
  caveat?: string;
  /** Part of the order is paid with a coupon: the amounts need an order total of at least 2 fen. */
  coupon?: boolean;
  requires: Requirement[];
  /** v2: sign type ('config' = the configured one) and whether sign_type is sent ('config' = as captured: not sent). */
  signType?: 'config' | V2SignType;
  signTypeField?: 'config' | boolean;
  /** v3: event, and which simulated key signs it. */
  event?: V3EventType;
  signer?: 'platform' | 'certificate' | 'random';
  /** v3: override the envelope summary (e.g. non-ASCII). */
  summary?: string;
  mutate?: Mutation;
  /** Deliver this many copies in a row (redelivery, key migration); v3 copies share id and resource. */
  copies?: number;
  /** Copies share the first copy's notification (redelivery) instead of being independent deliveries. */
  sameNotification?: boolean;
  /** Also fire this many extra copies at the same instant (WeChat sends from several servers). */
  concurrent?: number;
  /**
   * The plain genuine case this one is a variation of, sent to the same URL. Reject cases (whose
   * control is signed by the same signer): their rejection proves signature checking only when this
   * twin was acknowledged in the same run (it is added to the run when left out). Ack variants: when
   * they fail exactly as their plain case did, the plain case's hint applies, not the variation's.
   */
  control?: string;
  diagnostic?: Diagnostic;
}
