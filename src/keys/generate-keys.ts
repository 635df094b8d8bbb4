import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { createSelfSignedCertificate, testCertificateValidity } from './self-signed-certificate.js';

/**
 * TEST keys that stand in for WeChat Pay's. WeChat never hands out its signing keys, so a simulator
 * signs with its own, and the merchant's TEST configuration trusts them (see trust-kit.ts).
 * WeChat Pay has two signing modes (docs/protocol.md#serial-selection), so there are two
 * independent RSA-2048 pairs.
 */
export interface TestKeys {
  /** APIv2 key (APIv2密钥): 32 characters [A-Za-z0-9]. Secret. */
  apiKey: string;
  /** APIv3 key (APIv3密钥): 32 characters [A-Za-z0-9]. Secret. */
  apiV3Key: string;
  /** The WeChat Pay public-key mode (微信支付公钥). */
  publicKey: {
    /** PKCS#8 PEM. Secret: it is what only WeChat Pay would hold. */
    privateKeyPem: string;
    /** SPKI PEM, for the merchant's test server. */
    publicKeyPem: string;
    /** `PUB_KEY_ID_…`, sent as Wechatpay-Serial. */
    keyId: string;
  };
  /** The platform-certificate mode (平台证书). */
  certificate: {
    /** PKCS#8 PEM. Secret. */
    privateKeyPem: string;
    /** Self-signed X.509 certificate PEM, for the merchant's test server. */
    certificatePem: string;
    /** Certificate serial, 40 upper-case hex characters, sent as Wechatpay-Serial. */
    serial: string;
  };
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Uniformly random characters from `alphabet` (randomInt is unbiased, unlike byte % length). */
export function randomString(length: number, alphabet = ALPHANUMERIC): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/**
 * TEST public-key IDs keep the real shape, `PUB_KEY_ID_` + 34 digits (a real one:
 * PUB_KEY_ID_0000000000000024101100397200000006, digits starting `0000`), but their digits start
 * `99999999`. That is our own convention, not a WeChat rule: real IDs never start so, which makes a
 * TEST ID recognisable at a glance (in logs, in a merchant's config) and easy to reject in production.
 */
export const TEST_PUBLIC_KEY_ID_PREFIX = 'PUB_KEY_ID_99999999';
const PUBLIC_KEY_ID_DIGITS = 34;

export function isTestPublicKeyId(keyId: string): boolean {
  return new RegExp(`^${TEST_PUBLIC_KEY_ID_PREFIX}\\d{${PUBLIC_KEY_ID_DIGITS - 8}}$`).test(keyId);
}

export function generateTestPublicKeyId(): string {
  return TEST_PUBLIC_KEY_ID_PREFIX + randomString(PUBLIC_KEY_ID_DIGITS - 8, '0123456789');
}

/**
 * A certificate serial like WeChat's: 20 bytes, 40 upper-case hex characters. The top bit is
 * cleared so the DER INTEGER needs no sign byte, and the first byte is kept at 0x10 or above so
 * every tool prints all 40 characters: Go's SDK formats the serial as a big integer (`%X`), which
 * would drop a leading zero digit and no longer match Wechatpay-Serial.
 */
export function generateCertificateSerial(): string {
  const bytes = randomBytes(20);
  bytes[0] = 0x10 + ((bytes[0] ?? 0) % 0x70);
  return bytes.toString('hex').toUpperCase();
}

function rsaKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** Fresh TEST keys; `now` fixes the certificate's validity (now − 1 day … now + 5 years). */
export function generateTestKeys(now: Date = new Date()): TestKeys {
  const apiKey = randomString(32);
  let apiV3Key = randomString(32);
  while (apiV3Key === apiKey) apiV3Key = randomString(32);

  const publicKeyPair = rsaKeyPair();
  const certificatePair = rsaKeyPair();
  const serial = generateCertificateSerial();
  const certificatePem = createSelfSignedCertificate({
    privateKeyPem: certificatePair.privateKeyPem,
    serial,
    validity: testCertificateValidity(now),
  });

  return {
    apiKey,
    apiV3Key,
    publicKey: { ...publicKeyPair, keyId: generateTestPublicKeyId() },
    certificate: { privateKeyPem: certificatePair.privateKeyPem, certificatePem, serial },
  };
}
