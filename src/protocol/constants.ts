/**
 * WeChat Pay callback constants (docs/protocol.md gives the source of each). One place for every
 * wire fact that both the Node reference code and the generated sandbox scripts rely on; the
 * sandbox gets them injected.
 */

/** WeChat gives the merchant 5 s to answer a callback before it counts the attempt as failed. */
export const ACK_TIME_LIMIT_MS = 5000;

/** SDK recipes reject a Wechatpay-Timestamp more than 300 s away from their clock. */
export const TIMESTAMP_WINDOW_SECONDS = 300;

/** WeChat's probe signatures (签名探测流量) all start with this. */
export const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';

export const V3_SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048';
export const V3_RESOURCE_ALGORITHM = 'AEAD_AES_256_GCM';
export const V3_RESOURCE_TYPE = 'encrypt-resource';

export const V3_HEADERS = {
  timestamp: 'Wechatpay-Timestamp',
  nonce: 'Wechatpay-Nonce',
  signature: 'Wechatpay-Signature',
  serial: 'Wechatpay-Serial',
  signatureType: 'Wechatpay-Signature-Type',
  /** Not signed: identifies one delivery. */
  requestId: 'Request-ID',
} as const;

/**
 * What every callback carries besides its Content-Type and (v3) signature headers, as captured from
 * WeChat (templates/EVIDENCE.md). Nothing else: no Cache-Control, Accept-Encoding or Postman-Token.
 */
export const CALLBACK_HEADERS = { 'User-Agent': 'Mozilla/4.0', Accept: '*/*', Pragma: 'no-cache' } as const;
export const CONTENT_TYPES = { v2: 'text/xml', v3: 'application/json' } as const;

export type V2SignType = 'MD5' | 'HMAC-SHA256';
export const V2_SIGN_TYPES: readonly V2SignType[] = ['MD5', 'HMAC-SHA256'];

/** v3 events the simulator sends, with the summary WeChat documents for each. */
export const V3_EVENTS = {
  'TRANSACTION.SUCCESS': { originalType: 'transaction', summary: '支付成功', associatedData: 'transaction' },
  'REFUND.SUCCESS': { originalType: 'refund', summary: '退款成功', associatedData: 'refund' },
  'REFUND.ABNORMAL': { originalType: 'refund', summary: '退款异常', associatedData: 'refund' },
  'REFUND.CLOSED': { originalType: 'refund', summary: '退款关闭', associatedData: 'refund' },
} as const;
export type V3EventType = keyof typeof V3_EVENTS;

/** The v2 acknowledgement the docs show (CDATA form; the plain-text form is equally valid). */
export const V2_ACK_XML =
  '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
/**
 * A CDATA section holding any text: "]]>" would end the section, so it is split across two
 * (`]]` ends one, `>` starts the next). Stripping "]]>" instead is not enough: one pass over
 * "]]]]>>" leaves "]]>", and text such as an attacker's sign_type then escapes into the reply.
 */
export const cdataSection = (text: string): string => `<![CDATA[${text.split(']]>').join(']]]]><![CDATA[>')}]]>`;
export const v2FailXml = (message: string): string =>
  `<xml><return_code><![CDATA[FAIL]]></return_code><return_msg>${cdataSection(message)}</return_msg></xml>`;

/** WeChat's retry schedule after a failed delivery (seconds between attempts; 24h4m in total). */
export const RETRY_SCHEDULE_SECONDS: readonly number[] = [
  15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];
