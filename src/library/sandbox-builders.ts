import { createHash, createHmac, createPrivateKey, type KeyObject } from 'node:crypto';
import { sandboxConstants } from '../collection/sandbox-scripts.js';
import { randomString } from '../keys/generate-keys.js';
import { aesEcbEncryptBase64 } from '../protocol/v2/req-info.js';
import { encryptResource } from '../protocol/v3/aes-gcm.js';
import { signV3 } from '../protocol/v3/sign-message.js';
import { libraryScript, loadSandboxFunctions } from '../sandbox/bundle.js';

/**
 * The notification builders of the Postman pre-request script (src/sandbox/lib), run in Node. The
 * rules — field order, sign_type, what each catalogue mutation does — are the sandbox's own text, so
 * a case built here is the case the collection sends; only the crypto underneath is Node's
 * (src/protocol), which the parity tests prove byte-identical to the sandbox's CryptoJS/BigInt code.
 */

/** What the sandbox's `buildV2Delivery`/`buildV3Delivery` return. */
export interface SandboxDelivery {
  body: string;
  headers: Record<string, string>;
  /** Headers the request must not carry (v3 cases that drop signature headers). */
  removeHeaders: string[];
  /** v3: the envelope before serialising (a redelivery repeats it, re-signed). */
  envelope?: Record<string, unknown>;
}

/** A simulated WeChat Pay signer as the v3 builder takes it. */
export interface SandboxSigner {
  key: KeyObject;
  serial: string;
}

export interface V3BuildInputs {
  apiV3Key: string;
  signers: Partial<Record<'platform' | 'certificate', SandboxSigner>>;
  nowMs: number;
  nonce: string;
  resourceNonce: string;
  random: () => number;
}

export interface SandboxBuilders {
  buildV2Delivery(
    spec: object,
    xml: string,
    apiKey: string,
    outer: Record<string, string>,
    nonceStr: string,
  ): SandboxDelivery;
  buildV3Delivery(
    spec: object,
    resourceText: string,
    inputs: V3BuildInputs,
    envelope: Record<string, unknown> | null,
  ): SandboxDelivery;
  buildFlatXml(
    root: string,
    fields: Record<string, string>,
    order: string[],
    cdata: Record<string, boolean> | null,
  ): string;
  notifyTimeVariables(epochMs: number): Record<string, string>;
  /** A body template filled in one pass, each value encoded for where it stands (JSON string, number, CDATA, XML text). */
  fillTemplate(text: string, format: 'json' | 'xml' | 'text', valueOf: (name: string) => string): string;
  /** The coupon split of an order total (cash_fee = total_fee − coupon_fee), or why it cannot add up. */
  notifyAmountVariables(total: string): { variables?: Record<string, string>; error?: string };
}

const FRAGMENTS = [
  'fill-template.js',
  'flat-xml.js',
  'notify-time.js',
  'notify-amounts.js',
  'build-v2.js',
  'build-v3.js',
] as const;

/** The crypto the fragments call, over Node's crypto (same names and argument order as crypto.js). */
const NODE_CRYPTO = {
  md5Hex: (text: string): string => createHash('md5').update(text, 'utf8').digest('hex'),
  hmacSha256Hex: (key: string, text: string): string => createHmac('sha256', key).update(text, 'utf8').digest('hex'),
  aesEcbEncryptBase64: (keyText: string, plaintext: string): string => aesEcbEncryptBase64(plaintext, keyText),
  aesGcmEncryptBase64: (keyText: string, nonceText: string, aadText: string, plaintext: string): string =>
    encryptResource(plaintext, keyText, nonceText, aadText),
  rsaSha256SignBase64: (key: KeyObject, text: string): string => signV3(text, key),
  randomAlphanumeric: (length: number): string => randomString(length),
};

let loaded: SandboxBuilders | undefined;

export function sandboxBuilders(): SandboxBuilders {
  loaded ??= loadSandboxFunctions(
    libraryScript(FRAGMENTS, sandboxConstants('prerequest')),
    NODE_CRYPTO,
  ) as unknown as SandboxBuilders;
  return loaded;
}

/** A private key for the v3 builder, from PEM text (PKCS#8 or PKCS#1) or a KeyObject. */
export function signerKey(privateKey: string | KeyObject, label: string): KeyObject {
  if (typeof privateKey !== 'string') return privateKey;
  try {
    return createPrivateKey(privateKey);
  } catch (error) {
    throw new TypeError(
      `${label} is not a PEM private key (${(error as Error).message}); pass the PEM text of the simulated WeChat Pay signer, e.g. generateTestKeys().publicKey.privateKeyPem`,
      {
        cause: error,
      },
    );
  }
}
