import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { V2SignType } from '../constants.js';

/**
 * The v2 string to sign: every non-empty field except `sign`, sorted by name in byte order, joined
 * as k=v with raw (not URL-encoded) values, then `&key=<APIv2 key>`.
 */
export function v2StringToSign(fields: Readonly<Record<string, string>>, apiKey: string): string {
  const names = Object.keys(fields)
    .filter((name) => name !== 'sign' && fields[name] !== undefined && fields[name] !== '')
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return names.map((name) => `${name}=${fields[name]}`).join('&') + `&key=${apiKey}`;
}

/** Upper-case hex sign; HMAC-SHA256 uses the key both as HMAC key and inside the message. */
export function signV2Fields(fields: Readonly<Record<string, string>>, apiKey: string, signType: V2SignType): string {
  const message = v2StringToSign(fields, apiKey);
  const digest =
    signType === 'MD5'
      ? createHash('md5').update(message, 'utf8').digest('hex')
      : createHmac('sha256', apiKey).update(message, 'utf8').digest('hex');
  return digest.toUpperCase();
}

/** WeChat often omits sign_type on HMAC-signed notifications, so infer it from the sign length. */
export function inferV2SignType(fields: Readonly<Record<string, string>>): V2SignType {
  if (fields.sign_type === 'HMAC-SHA256' || fields.sign_type === 'MD5') return fields.sign_type;
  return (fields.sign ?? '').length === 64 ? 'HMAC-SHA256' : 'MD5';
}

export function verifyV2Sign(fields: Readonly<Record<string, string>>, apiKey: string): boolean {
  const sign = fields.sign;
  if (!sign) return false;
  const expected = Buffer.from(signV2Fields(fields, apiKey, inferV2SignType(fields)));
  const given = Buffer.from(sign.toUpperCase());
  // Constant time: a comparison that stops at the first differing character tells an attacker, by
  // its timing, how much of a forged sign is right. Only the length may leak (it is public).
  return expected.length === given.length && timingSafeEqual(expected, given);
}
