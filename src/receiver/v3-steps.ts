import type { IncomingHttpHeaders } from 'node:http';
import {
  SIGNTEST_PREFIX,
  TIMESTAMP_WINDOW_SECONDS,
  V3_HEADERS,
  V3_RESOURCE_ALGORITHM,
  V3_SIGNATURE_TYPE,
} from '../protocol/constants.js';
import { decryptResource } from '../protocol/v3/aes-gcm.js';
import { v3SignMessage, verifyV3 } from '../protocol/v3/sign-message.js';
import { Rejection } from './rejection.js';
import type { Reply } from './reply.js';
import type { V3KeyRing } from './v3-key-ring.js';

export interface V3SignatureHeaders {
  timestamp: string;
  nonce: string;
  signature: string;
  serial: string;
}

/** The message as signed: the four headers and the body exactly as received. */
export interface V3SignedBody {
  headers: V3SignatureHeaders;
  rawBody: string;
}

export interface V3Resource {
  algorithm: string;
  ciphertext: string;
  nonce: string;
  associated_data?: string;
  original_type?: string;
}

export interface V3Envelope {
  id: string;
  event_type?: string;
  resource: V3Resource;
}

/** The steps of a v3 notification handler, each replaceable on its own (see `ReceiverSteps`). */
export interface V3Steps {
  readHeaders(headers: IncomingHttpHeaders): V3SignatureHeaders;
  checkTimestamp(timestamp: string, nowMs: number): void;
  verifySignature(signed: V3SignedBody, keys: V3KeyRing): void;
  parseEnvelope(rawBody: string): V3Envelope;
  /** Returns the decrypted resource, parsed from JSON. */
  decrypt(resource: V3Resource, apiV3Key: string): unknown;
  ack(): Reply;
  reject(status: number, reason: string): Reply;
}

const header = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name.toLowerCase()]; // Node lower-cases incoming header names
  return (Array.isArray(value) ? value.join(', ') : (value ?? '')).trim();
};

export function readSignatureHeaders(headers: IncomingHttpHeaders): V3SignatureHeaders {
  const read = {
    timestamp: header(headers, V3_HEADERS.timestamp),
    nonce: header(headers, V3_HEADERS.nonce),
    signature: header(headers, V3_HEADERS.signature),
    serial: header(headers, V3_HEADERS.serial),
  };
  const missing = (Object.keys(read) as (keyof V3SignatureHeaders)[]).filter((k) => !read[k]).map((k) => V3_HEADERS[k]);
  if (missing.length > 0) throw new Rejection(401, `missing ${missing.join(', ')}: every v3 notification is signed`);
  // Optional header; absent means RSA. Anything else (e.g. the SM2 variant) is not verifiable here.
  const signatureType = header(headers, V3_HEADERS.signatureType);
  if (signatureType && signatureType !== V3_SIGNATURE_TYPE) {
    throw new Rejection(401, `unsupported ${V3_HEADERS.signatureType} ${signatureType}`);
  }
  return read;
}

/** Replay protection: WeChat re-signs every retry with a fresh timestamp, so an old one is a replay. */
export function checkTimestampWindow(timestamp: string, nowMs: number): void {
  if (!/^\d{1,12}$/.test(timestamp)) throw new Rejection(401, `${V3_HEADERS.timestamp} is not Unix seconds`);
  const skew = Number(timestamp) - Math.floor(nowMs / 1000);
  if (Math.abs(skew) > TIMESTAMP_WINDOW_SECONDS) {
    const side = skew < 0 ? 'behind' : 'ahead of';
    throw new Rejection(
      401,
      `${V3_HEADERS.timestamp} is ${Math.abs(skew)} s ${side} this server's clock (limit ${TIMESTAMP_WINDOW_SECONDS} s): a replay, or a wrong clock`,
    );
  }
}

/**
 * The key is chosen by Wechatpay-Serial, never "the one key we have": during a switch from platform
 * certificate to WeChat Pay public key, WeChat signs a growing share of callbacks with the new key.
 */
export function verifySignatureBySerial({ headers, rawBody }: V3SignedBody, keys: V3KeyRing): void {
  const key = keys.get(headers.serial);
  if (!key) {
    throw new Rejection(
      401,
      `unknown ${V3_HEADERS.serial} ${headers.serial}; trusted: ${[...keys.keys()].join(', ') || 'none'}`,
    );
  }
  // The signed message is built from the body string as received, never from a re-serialised
  // object: whitespace, key order and \u escapes all change the bytes.
  //
  // No special case for probe signatures (WECHATPAY/SIGNTEST/…): WeChat sends them to check that
  // merchants verify, and they simply fail verification like any forgery. WeChat then re-sends
  // the notification with a valid signature. The prefix is mentioned only to help troubleshooting.
  if (!verifyV3(v3SignMessage(headers.timestamp, headers.nonce, rawBody), headers.signature, key)) {
    const probe = headers.signature.startsWith(SIGNTEST_PREFIX)
      ? ' (a WeChat signature probe: rejecting it is correct)'
      : '';
    throw new Rejection(401, `${V3_HEADERS.signature} does not verify under serial ${headers.serial}${probe}`);
  }
}

/**
 * Notifications are a few levels deep (the deepest, promotion_detail → goods_detail, about five).
 * Anything much deeper is refused before it is parsed: code that walks or prints the result
 * recursively (a logger's JSON.stringify) would overflow the stack on it.
 */
export const MAX_JSON_DEPTH = 32;

/** True when the JSON text nests arrays/objects deeper than `max` (strings are skipped). */
export function jsonNestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max) return true;
    } else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return false;
}

export function parseV3Envelope(rawBody: string): V3Envelope {
  if (jsonNestedDeeperThan(rawBody, MAX_JSON_DEPTH))
    throw new Rejection(
      400,
      `body is JSON nested more than ${MAX_JSON_DEPTH} levels deep; a notification is a few levels deep`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    throw new Rejection(400, 'body is not JSON');
  }
  const envelope = parsed as Partial<V3Envelope> | null;
  const resource = envelope?.resource as Partial<V3Resource> | undefined;
  if (typeof envelope?.id !== 'string' || !envelope.id) throw new Rejection(400, 'envelope has no id');
  if (typeof resource?.ciphertext !== 'string' || typeof resource.nonce !== 'string') {
    throw new Rejection(400, 'envelope has no resource.ciphertext and resource.nonce');
  }
  return envelope as V3Envelope;
}

export function decryptV3Resource(resource: V3Resource, apiV3Key: string): unknown {
  if (resource.algorithm !== V3_RESOURCE_ALGORITHM) {
    throw new Rejection(400, `unsupported resource.algorithm ${String(resource.algorithm)}`);
  }
  let plaintext: string;
  try {
    // associated_data is authenticated too: decrypting with any other AAD (even "") fails.
    plaintext = decryptResource(resource.ciphertext, apiV3Key, resource.nonce, resource.associated_data ?? '');
  } catch {
    throw new Rejection(400, 'cannot decrypt: check the APIv3 key (APIv3密钥)');
  }
  if (jsonNestedDeeperThan(plaintext, MAX_JSON_DEPTH)) {
    throw new Rejection(
      400,
      `decrypted resource is JSON nested more than ${MAX_JSON_DEPTH} levels deep; a notification is a few levels deep`,
    );
  }
  try {
    return JSON.parse(plaintext) as unknown;
  } catch {
    throw new Rejection(400, 'decrypted resource is not JSON');
  }
}

/** 200 and 204 both acknowledge; the body is ignored, so send none. */
export function v3Ack(): Reply {
  return { status: 204, body: '' };
}

/** Any 4xx/5xx makes WeChat retry; the JSON body is what its docs recommend. */
export function v3Reject(status: number, reason: string): Reply {
  return {
    status,
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({ code: 'FAIL', message: reason }),
  };
}

export const V3_STEPS: V3Steps = {
  readHeaders: readSignatureHeaders,
  checkTimestamp: checkTimestampWindow,
  verifySignature: verifySignatureBySerial,
  parseEnvelope: parseV3Envelope,
  decrypt: decryptV3Resource,
  ack: v3Ack,
  reject: v3Reject,
};
