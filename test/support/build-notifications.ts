import type { KeyLike } from 'node:crypto';
import { V3_EVENTS, V3_SIGNATURE_TYPE, type V2SignType, type V3EventType } from '../../src/protocol/constants.js';
import { buildFlatXml } from '../../src/protocol/v2/flat-xml.js';
import { signV2Fields } from '../../src/protocol/v2/sign-fields.js';
import { encryptResource } from '../../src/protocol/v3/aes-gcm.js';
import { signV3, v3SignMessage } from '../../src/protocol/v3/sign-message.js';

/**
 * Genuine WeChat Pay notifications built with src/protocol, shared by the receiver tests so both
 * sign and encrypt the same way. Each test file keeps its own fixtures (order data, keys, paths)
 * and hands them in; nothing here picks a value a test asserts on.
 */

/** A v2 notification body: the fields plus their `sign` (added last), as flat XML under <xml>. */
export function signedV2Xml(fields: Readonly<Record<string, string>>, apiKey: string, signType: V2SignType): string {
  const signed: Record<string, string> = { ...fields };
  signed.sign = signV2Fields(signed, apiKey, signType);
  return buildFlatXml('xml', signed);
}

export interface V3EnvelopeParts {
  id: string;
  createTime: string;
  event: V3EventType;
  /** The resource as JSON text, before encryption. */
  plaintext: string;
  apiV3Key: string;
  /** The AES-GCM nonce of the resource. */
  resourceNonce: string;
}

/** A v3 notification envelope with its resource encrypted, as WeChat posts it (before serialising). */
export function v3Envelope(p: V3EnvelopeParts): Record<string, unknown> {
  const meta = V3_EVENTS[p.event];
  return {
    id: p.id,
    create_time: p.createTime,
    resource_type: 'encrypt-resource',
    event_type: p.event,
    summary: meta.summary,
    resource: {
      original_type: meta.originalType,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: encryptResource(p.plaintext, p.apiV3Key, p.resourceNonce, meta.associatedData),
      associated_data: meta.associatedData,
      nonce: p.resourceNonce,
    },
  };
}

export interface V3Signing {
  timestamp: string;
  nonce: string;
  /** The simulated WeChat Pay signer's private key. */
  privateKey: KeyLike;
  /** Wechatpay-Serial: the public-key ID or certificate serial the receiver should verify with. */
  serial: string;
  contentType?: string;
  /** Applied to the signature before it goes into the header, to forge one. */
  resign?: (signature: string) => string;
}

/** The Wechatpay-* headers (and Content-Type) that sign `body` the way WeChat Pay does. */
export function v3SignedHeaders(body: string, s: V3Signing): Record<string, string> {
  const signature = signV3(v3SignMessage(s.timestamp, s.nonce, body), s.privateKey);
  return {
    'Content-Type': s.contentType ?? 'application/json',
    'Wechatpay-Timestamp': s.timestamp,
    'Wechatpay-Nonce': s.nonce,
    'Wechatpay-Signature': s.resign ? s.resign(signature) : signature,
    'Wechatpay-Serial': s.serial,
    'Wechatpay-Signature-Type': V3_SIGNATURE_TYPE,
  };
}
