import { V2_ACK_XML, v2FailXml } from '../protocol/constants.js';
import { parseFlatXml } from '../protocol/v2/flat-xml.js';
import { decryptReqInfo } from '../protocol/v2/req-info.js';
import { inferV2SignType, verifyV2Sign } from '../protocol/v2/sign-fields.js';
import { Rejection } from './rejection.js';
import type { Reply } from './reply.js';

type Fields = Record<string, string>;

/** The steps of a v2 notification handler, each replaceable on its own (see `ReceiverSteps`). */
export interface V2Steps {
  /** Body → flat fields of the `<xml>` document. */
  parse(body: string): Fields;
  /** Pay notifications: the `sign` must match the fields under the APIv2 key. */
  verifySign(fields: Readonly<Fields>, apiKey: string): void;
  /** Refund notifications: decrypt `req_info` and return the fields of the inner `<root>`. */
  openRefund(fields: Readonly<Fields>, apiKey: string): Fields;
  ack(): Reply;
  reject(reason: string): Reply;
}

const XML_CONTENT_TYPE = 'text/xml; charset=utf-8';

/**
 * fast-xml-parser never fetches external entities, so the XXE attack WeChat warned v2 merchants
 * about in 2018 cannot happen here. If you port this to another XML library, disable DTDs.
 */
export function parseV2Body(body: string): Fields {
  let message;
  try {
    message = parseFlatXml(body);
  } catch (error) {
    throw new Rejection(400, `body is not a WeChat XML message (${(error as Error).message})`);
  }
  if (message.root !== 'xml') throw new Rejection(400, `root element is <${message.root}>, expected <xml>`);
  return message.fields;
}

/**
 * Signs over *every* received field except `sign`, including ones this code has never heard of:
 * WeChat adds fields without notice, and a verifier that signs only known fields breaks then.
 */
export function verifyPaySign(fields: Readonly<Fields>, apiKey: string): void {
  if (!fields.sign) throw new Rejection(401, 'missing sign');
  if (verifyV2Sign(fields, apiKey)) return;
  // HMAC-SHA256-signed notifies usually omit sign_type; inferV2SignType falls back to the sign's
  // length (64 hex = HMAC, 32 = MD5) instead of assuming MD5, so say which one was tried.
  const how = fields.sign_type
    ? `as ${fields.sign_type}`
    : `as ${inferV2SignType(fields)} (inferred from the sign's length)`;
  throw new Rejection(401, `sign does not verify ${how}: check the APIv2 key (APIv2密钥)`);
}

/**
 * Refund notifications carry no `sign`: they are authentic because `req_info` decrypts under
 * md5(APIv2 key). A decryption failure is therefore the signature failure of this message.
 */
export function openRefundReqInfo(fields: Readonly<Fields>, apiKey: string): Fields {
  if (!fields.req_info) throw new Rejection(400, 'missing req_info');
  const cannotDecrypt =
    'cannot decrypt req_info: check the APIv2 key (APIv2密钥); the AES-256-ECB key is its lower-case hex MD5';
  let plaintext: string;
  try {
    plaintext = decryptReqInfo(fields.req_info, apiKey);
  } catch {
    throw new Rejection(401, cannotDecrypt);
  }
  let inner;
  try {
    inner = parseFlatXml(plaintext);
  } catch {
    // A wrong key occasionally yields valid-looking padding; the garbage then fails to parse.
    throw new Rejection(401, cannotDecrypt);
  }
  if (inner.root !== 'root') throw new Rejection(400, `decrypted req_info has root <${inner.root}>, expected <root>`);
  return inner.fields;
}

export function v2Ack(): Reply {
  return { status: 200, contentType: XML_CONTENT_TYPE, body: V2_ACK_XML };
}

/** v2's documented way to say "not received, send it again" is return_code FAIL in the body. */
export function v2Reject(reason: string): Reply {
  return { status: 200, contentType: XML_CONTENT_TYPE, body: v2FailXml(reason) };
}

export const V2_STEPS: V2Steps = {
  parse: parseV2Body,
  verifySign: verifyPaySign,
  openRefund: openRefundReqInfo,
  ack: v2Ack,
  reject: v2Reject,
};
