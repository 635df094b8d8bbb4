import type { KeyObject } from 'node:crypto';
import { randomString } from '../keys/generate-keys.js';
import {
  CALLBACK_HEADERS,
  V2_SIGN_TYPES,
  V3_EVENTS,
  type V2SignType,
  type V3EventType,
} from '../protocol/constants.js';
import { sandboxBuilders, signerKey, type SandboxDelivery } from './sandbox-builders.js';

/** A notification exactly as it goes on the wire: POST these headers and this body, byte for byte. */
export interface Notification {
  headers: Record<string, string>;
  body: string;
}

/** WeChat's callbacks identify as Mozilla/4.0 (the collection's pre-request script sends the same). */

/** The v3 envelope WeChat posts (its `resource` encrypted). */
export interface V3Envelope {
  id: string;
  create_time: string;
  resource_type: string;
  event_type: string;
  summary: string;
  resource: { original_type: string; algorithm: string; ciphertext: string; associated_data: string; nonce: string };
}

export interface V3NotificationOptions {
  /** Default `TRANSACTION.SUCCESS`; also `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`. */
  event?: V3EventType;
  /** The decrypted resource (e.g. the transaction), as an object or JSON text; sent compact. */
  resource: Record<string, unknown> | string;
  /** APIv3 key (APIv3密钥), 32 characters: encrypts the resource (AEAD_AES_256_GCM). */
  apiV3Key: string;
  /** The simulated WeChat Pay signer's private key (PEM or KeyObject), e.g. generateTestKeys().publicKey.privateKeyPem. */
  privateKey: string | KeyObject;
  /** Wechatpay-Serial: the `PUB_KEY_ID_…` or platform certificate serial your handler trusts. */
  serial: string;
  /** Wechatpay-Timestamp in Unix seconds; default now. */
  timestamp?: number;
  /** Wechatpay-Nonce; default 32 random letters and digits. */
  nonce?: string;
  /** Envelope `id`; default a random UUID. */
  id?: string;
  /** Envelope `create_time`; default the timestamp in Beijing time (RFC 3339, +08:00). */
  createTime?: string;
  /** Envelope `summary`; default WeChat's for the event (e.g. 支付成功). */
  summary?: string;
  /** resource.nonce (12 characters); default random. */
  resourceNonce?: string;
}

export interface V3Notification extends Notification {
  envelope: V3Envelope;
}

/**
 * A v3 (JSON) notification as WeChat Pay sends it: the resource encrypted under the APIv3 key, the
 * envelope serialised compactly, and SHA256withRSA over "timestamp\nnonce\nbody\n" in the
 * Wechatpay-Signature header.
 */
export function buildV3Notification(options: V3NotificationOptions): V3Notification {
  const event = options.event ?? 'TRANSACTION.SUCCESS';
  const facts = V3_EVENTS[event];
  if (!facts)
    throw new TypeError(`event must be one of ${Object.keys(V3_EVENTS).join(', ')} (got ${JSON.stringify(event)})`);
  requireText(options.apiV3Key, 'apiV3Key', 'the APIv3 key (APIv3密钥)');
  requireText(options.serial, 'serial', 'the Wechatpay-Serial your handler trusts');
  if (options.timestamp !== undefined && !Number.isInteger(options.timestamp))
    throw new TypeError(`timestamp must be whole Unix seconds (got ${options.timestamp})`);
  const spec = {
    event,
    summary: options.summary ?? facts.summary,
    originalType: facts.originalType,
    associatedData: facts.associatedData,
    signer: 'platform',
  };
  const resourceText = typeof options.resource === 'string' ? options.resource : JSON.stringify(options.resource);
  const inputs = {
    apiV3Key: options.apiV3Key,
    signers: { platform: { key: signerKey(options.privateKey, 'privateKey'), serial: options.serial } },
    nowMs: options.timestamp !== undefined ? options.timestamp * 1000 : Date.now(),
    nonce: options.nonce ?? randomString(32),
    resourceNonce: options.resourceNonce ?? randomString(12),
    random: Math.random,
  };
  const builders = sandboxBuilders();
  let delivery = builders.buildV3Delivery(spec, resourceText, inputs, null);
  if (options.id !== undefined || options.createTime !== undefined) {
    // The builder makes the envelope; a given id or create_time replaces its value in place (the
    // key order stays WeChat's), and the envelope is signed again.
    const envelope = { ...delivery.envelope! };
    if (options.id !== undefined) envelope.id = options.id;
    if (options.createTime !== undefined) envelope.create_time = options.createTime;
    delivery = builders.buildV3Delivery(spec, resourceText, inputs, envelope);
  }
  return { ...asSent(delivery), envelope: JSON.parse(JSON.stringify(delivery.envelope)) as V3Envelope };
}

export interface V2PayNotificationOptions {
  /** The fields WeChat sends (appid, mch_id, out_trade_no, total_fee …), without sign. */
  fields: Record<string, string | number>;
  /** APIv2 key (APIv2密钥), 32 characters. */
  apiKey: string;
  /** Default MD5. */
  signType?: V2SignType;
  /** Send a sign_type field; default true for HMAC-SHA256 (WeChat sometimes omits it), false for MD5. */
  signTypeField?: boolean;
}

/** A v2 payment notification (支付结果通知): flat XML under <xml>, signed with the APIv2 key. */
export function buildV2PayNotification(options: V2PayNotificationOptions): Notification {
  requireText(options.apiKey, 'apiKey', 'the APIv2 key (APIv2密钥)');
  const signType = options.signType ?? 'MD5';
  if (!V2_SIGN_TYPES.includes(signType))
    throw new TypeError(`signType must be "MD5" or "HMAC-SHA256" (got ${JSON.stringify(signType)})`);
  const spec = { kind: 'pay', signType, signTypeField: options.signTypeField ?? signType === 'HMAC-SHA256' };
  return asSent(
    sandboxBuilders().buildV2Delivery(spec, flatXml('xml', options.fields, 'fields'), options.apiKey, {}, ''),
  );
}

export interface V2RefundNotificationOptions {
  /** The plaintext refund fields (out_refund_no, refund_status …) that req_info encrypts, under <root>. */
  reqInfo: Record<string, string | number>;
  /** The outer fields beside req_info: appid and mch_id (service providers: also sub_appid, sub_mch_id). */
  fields: Record<string, string>;
  /** APIv2 key (APIv2密钥): req_info is AES-256-ECB under lower-case hex md5(key). */
  apiKey: string;
  /** Default 32 random letters and digits. */
  nonceStr?: string;
}

/** A v2 refund notification (退款结果通知): no sign; req_info carries the encrypted <root> XML. */
export function buildV2RefundNotification(options: V2RefundNotificationOptions): Notification {
  requireText(options.apiKey, 'apiKey', 'the APIv2 key (APIv2密钥)');
  const outer = textFields(options.fields ?? {}, 'fields');
  return asSent(
    sandboxBuilders().buildV2Delivery(
      { kind: 'refund' },
      flatXml('root', options.reqInfo, 'reqInfo'),
      options.apiKey,
      outer,
      options.nonceStr ?? randomString(32),
    ),
  );
}

/** The delivery as the collection sends it (the pre-request script adds the User-Agent). */
export function asSent(delivery: SandboxDelivery): Notification {
  return { headers: { ...CALLBACK_HEADERS, ...delivery.headers }, body: delivery.body };
}

function flatXml(root: string, fields: Record<string, string | number>, label: string): string {
  const text = textFields(fields, label);
  return sandboxBuilders().buildFlatXml(root, text, Object.keys(text), null);
}

function textFields(fields: Record<string, string | number>, label: string): Record<string, string> {
  if (typeof fields !== 'object' || fields === null)
    throw new TypeError(`${label} must be an object of field names and values`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (!/^[A-Za-z_][\w.-]*$/.test(name)) throw new TypeError(`${label}: "${name}" is not an XML field name`);
    if (typeof value !== 'string' && typeof value !== 'number')
      throw new TypeError(`${label}.${name} must be a string or a number`);
    const text = String(value);
    if (text.includes(']]>')) throw new TypeError(`${label}.${name} contains "]]>", which cannot be sent inside CDATA`);
    out[name] = text;
  }
  return out;
}

function requireText(value: unknown, name: string, what: string): void {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} is required: ${what}`);
}
