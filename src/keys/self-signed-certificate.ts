import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import {
  derBitString,
  derBoolean,
  derExplicit,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derTime,
  derUtf8String,
} from './der.js';

/**
 * A self-signed X.509 v3 certificate standing in for a WeChat Pay platform certificate (平台证书).
 * Node's crypto can parse certificates but not create them, so the TBSCertificate is encoded by
 * hand (RFC 5280 §4.1) and signed with SHA256withRSA (PKCS#1 v1.5), as WeChat's own are.
 */

/** Names that say plainly, in any certificate viewer, that this is not WeChat Pay's certificate. */
export const TEST_CERTIFICATE_SUBJECT = {
  commonName: 'wxpay-notify TEST platform certificate (测试平台证书, not WeChat Pay)',
  organization: 'wxpay-notify test',
} as const;

const OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
} as const;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface CertificateValidity {
  notBefore: Date;
  notAfter: Date;
}

/** WeChat's platform certificates last 5 years; start a day early so clock skew cannot bite. */
export function testCertificateValidity(now: Date): CertificateValidity {
  const seconds = Math.floor(now.getTime() / 1000) * 1000;
  const notBefore = new Date(seconds - DAY_MS);
  const notAfter = new Date(seconds);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 5);
  return { notBefore, notAfter };
}

export interface SelfSignedCertificateOptions {
  /** PEM (PKCS#8 or PKCS#1) RSA private key; the certificate carries its public half. */
  privateKeyPem: string;
  /** Serial number as hex (the form `Wechatpay-Serial` carries), positive, at most 20 bytes. */
  serial: string;
  validity: CertificateValidity;
}

function serialBytes(serial: string): Buffer {
  if (!/^(?:[0-9A-Fa-f]{2}){1,20}$/.test(serial)) {
    throw new Error(`certificate serial must be 1–20 bytes of hex, got "${serial}"`);
  }
  const bytes = Buffer.from(serial, 'hex');
  if (bytes.every((b) => b === 0)) throw new Error('certificate serial must be positive');
  return bytes;
}

function name(): Buffer {
  const attribute = (oid: string, value: string): Buffer => derSet(derSequence(derOid(oid), derUtf8String(value)));
  return derSequence(
    attribute(OID.organization, TEST_CERTIFICATE_SUBJECT.organization),
    attribute(OID.commonName, TEST_CERTIFICATE_SUBJECT.commonName),
  );
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return derSequence(derOid(oid), derBoolean(critical), derOctetString(value));
}

function extensions(): Buffer {
  // basicConstraints: CA FALSE is the DEFAULT, so DER encodes it as an empty SEQUENCE.
  const basicConstraints = extension(OID.basicConstraints, true, derSequence());
  // keyUsage: digitalSignature is bit 0 — one byte 0x80 with 7 unused bits.
  const keyUsage = extension(OID.keyUsage, true, derBitString(Buffer.from([0x80]), 7));
  return derExplicit(3, derSequence(basicConstraints, keyUsage));
}

/** The certificate as PEM text (`-----BEGIN CERTIFICATE-----`). */
export function createSelfSignedCertificate(options: SelfSignedCertificateOptions): string {
  const { notBefore, notAfter } = options.validity;
  if (!(notBefore.getTime() < notAfter.getTime())) throw new Error('certificate notBefore must precede notAfter');
  const privateKey = createPrivateKey(options.privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'rsa') throw new Error('the test platform certificate needs an RSA key');
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const signatureAlgorithm = derSequence(derOid(OID.sha256WithRSAEncryption), derNull());

  const tbs = derSequence(
    derExplicit(0, derInteger(2)), // version: v3
    derInteger(serialBytes(options.serial)),
    signatureAlgorithm,
    name(), // issuer = subject: self-signed
    derSequence(derTime(notBefore), derTime(notAfter)),
    name(),
    spki,
    extensions(),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = derSequence(tbs, signatureAlgorithm, derBitString(signature));
  return toPem('CERTIFICATE', der);
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
