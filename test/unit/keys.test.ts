import { createPrivateKey, createPublicKey, createVerify, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { derInteger, derLength, derOid, derTime } from '../../src/keys/der.js';
import {
  generateCertificateSerial,
  generateTestKeys,
  isTestPublicKeyId,
  type TestKeys,
} from '../../src/keys/generate-keys.js';
import {
  createSelfSignedCertificate,
  TEST_CERTIFICATE_SUBJECT,
  testCertificateValidity,
} from '../../src/keys/self-signed-certificate.js';
import { renderTrustKit, TRUST_KIT_FILES } from '../../src/keys/trust-kit.js';
import { signV3, v3SignMessage, verifyV3 } from '../../src/protocol/v3/sign-message.js';

const NOW = new Date('2026-11-27T08:30:45.678Z');
const DAY_MS = 86_400_000;
let keys: TestKeys;

beforeAll(() => {
  keys = generateTestKeys(NOW);
});

describe('der', () => {
  it('encodes lengths in short and long form', () => {
    expect(derLength(0).toString('hex')).toBe('00');
    expect(derLength(127).toString('hex')).toBe('7f');
    expect(derLength(128).toString('hex')).toBe('8180');
    expect(derLength(256).toString('hex')).toBe('820100');
    expect(derLength(65536).toString('hex')).toBe('83010000');
  });

  it('encodes non-negative integers minimally, with a sign byte when the top bit is set', () => {
    expect(derInteger(0).toString('hex')).toBe('020100');
    expect(derInteger(2).toString('hex')).toBe('020102');
    expect(derInteger(127).toString('hex')).toBe('02017f');
    expect(derInteger(128).toString('hex')).toBe('02020080');
    expect(derInteger(Buffer.from('0000ff', 'hex')).toString('hex')).toBe('020200ff');
  });

  it('encodes object identifiers', () => {
    expect(derOid('1.2.840.113549.1.1.11').toString('hex')).toBe('06092a864886f70d01010b');
    expect(derOid('2.5.4.3').toString('hex')).toBe('0603550403');
  });

  it('uses UTCTime up to 2049 and GeneralizedTime from 2050, in whole seconds', () => {
    expect(derTime(new Date('2049-12-31T23:59:59.999Z')).toString('latin1')).toBe('\x17\x0d491231235959Z');
    expect(derTime(new Date('2050-01-01T00:00:00Z')).toString('latin1')).toBe('\x18\x0f20500101000000Z');
  });
});

describe('generateTestKeys', () => {
  it('makes 32-character alphanumeric API keys that differ', () => {
    expect(keys.apiKey).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(keys.apiV3Key).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(keys.apiKey).not.toBe(keys.apiV3Key);
  });

  it('makes two separate RSA-2048 key pairs in PKCS#8 / SPKI PEM', () => {
    expect(keys.publicKey.privateKeyPem).toMatch(/^-{5}BEGIN PRIVATE KEY-{5}\n/);
    expect(keys.publicKey.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(keys.certificate.privateKeyPem).toMatch(/^-{5}BEGIN PRIVATE KEY-{5}\n/);
    for (const pem of [keys.publicKey.privateKeyPem, keys.certificate.privateKeyPem]) {
      const key = createPrivateKey(pem);
      expect(key.asymmetricKeyType).toBe('rsa');
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    }
    const certKey = createPublicKey(keys.certificate.privateKeyPem).export({ type: 'spki', format: 'pem' });
    expect(certKey).not.toBe(keys.publicKey.publicKeyPem);
    expect(createPublicKey(keys.publicKey.privateKeyPem).export({ type: 'spki', format: 'pem' })).toBe(
      keys.publicKey.publicKeyPem,
    );
  });

  it('gives a PUB_KEY_ID_ of the real shape, marked as ours by the 99999999 start', () => {
    expect(keys.publicKey.keyId).toMatch(/^PUB_KEY_ID_99999999\d{26}$/);
    expect(isTestPublicKeyId(keys.publicKey.keyId)).toBe(true);
    expect(isTestPublicKeyId('PUB_KEY_ID_0000000000000024101100397200000006')).toBe(false);
  });

  it('gives a 40-character upper-case hex serial with the top bit clear and no leading zero digit', () => {
    expect(keys.certificate.serial).toMatch(/^[1-7][0-9A-F]{39}$/);
    for (let i = 0; i < 200; i++) expect(generateCertificateSerial()).toMatch(/^[1-7][0-9A-F]{39}$/);
  });
});

describe('self-signed platform certificate', () => {
  it('parses, carries our serial, subject and issuer, and verifies with its own key', () => {
    const cert = new X509Certificate(keys.certificate.certificatePem);
    expect(cert.serialNumber.toUpperCase()).toBe(keys.certificate.serial);
    const subject = cert.subject.replace(/\\(.)/g, '$1'); // Node escapes the comma in the CN
    expect(subject.split('\n')).toEqual([
      `O=${TEST_CERTIFICATE_SUBJECT.organization}`,
      `CN=${TEST_CERTIFICATE_SUBJECT.commonName}`,
    ]);
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.ca).toBe(false);
    expect(cert.verify(createPublicKey(keys.certificate.privateKeyPem))).toBe(true);
    expect(cert.verify(createPublicKey(keys.publicKey.publicKeyPem))).toBe(false);
    expect(cert.checkPrivateKey(createPrivateKey(keys.certificate.privateKeyPem))).toBe(true);
  });

  it('is valid from a day before now until five years after, in whole seconds', () => {
    const cert = new X509Certificate(keys.certificate.certificatePem);
    expect(new Date(cert.validFrom).toISOString()).toBe(
      new Date(Date.parse('2026-11-27T08:30:45Z') - DAY_MS).toISOString(),
    );
    expect(new Date(cert.validTo).toISOString()).toBe('2031-11-27T08:30:45.000Z');
  });

  it('encodes validity after 2049 as GeneralizedTime', () => {
    const now = new Date('2047-06-01T12:00:00Z');
    const pem = createSelfSignedCertificate({
      privateKeyPem: keys.certificate.privateKeyPem,
      serial: '7F00000000000000000000000000000000000001',
      validity: testCertificateValidity(now),
    });
    const cert = new X509Certificate(pem);
    expect(new Date(cert.validFrom).toISOString()).toBe('2047-05-31T12:00:00.000Z');
    expect(new Date(cert.validTo).toISOString()).toBe('2052-06-01T12:00:00.000Z');
    expect(cert.serialNumber.toUpperCase()).toBe('7F00000000000000000000000000000000000001');
  });

  it('rejects serials that are not 1–20 bytes of positive hex', () => {
    const make = (serial: string) => () =>
      createSelfSignedCertificate({
        privateKeyPem: keys.certificate.privateKeyPem,
        serial,
        validity: testCertificateValidity(NOW),
      });
    expect(make('ABC')).toThrow(/serial/);
    expect(make('00'.repeat(4))).toThrow(/positive/);
    expect(make('11'.repeat(21))).toThrow(/serial/);
  });
});

describe('signatures (SHA256withRSA, as WeChat Pay signs callbacks)', () => {
  const message = v3SignMessage('1796000000', 'nonceTEST', '{"id":"测试","event_type":"TRANSACTION.SUCCESS"}');

  it('public-key mode: signed with the private key, verified with the public key PEM', () => {
    const signature = signV3(message, keys.publicKey.privateKeyPem);
    expect(verifyV3(message, signature, keys.publicKey.publicKeyPem)).toBe(true);
    expect(verifyV3(message, signature, keys.certificate.certificatePem)).toBe(false);
  });

  it('certificate mode: signed with the private key, verified with the certificate', () => {
    const signature = signV3(message, keys.certificate.privateKeyPem);
    expect(verifyV3(message, signature, keys.certificate.certificatePem)).toBe(true);
    const cert = new X509Certificate(keys.certificate.certificatePem);
    expect(createVerify('RSA-SHA256').update(message).verify(cert.publicKey, signature, 'base64')).toBe(true);
    expect(verifyV3(message, signature, keys.publicKey.publicKeyPem)).toBe(false);
  });
});

describe('renderTrustKit', () => {
  it('holds the public key, the certificate and a secret README with every value', () => {
    const kit = renderTrustKit(keys, { projectName: 'my-shop' });
    expect(Object.keys(kit).sort()).toEqual(Object.values(TRUST_KIT_FILES).sort());
    expect(kit[TRUST_KIT_FILES.publicKey]).toEqual({ content: keys.publicKey.publicKeyPem, secret: false });
    expect(kit[TRUST_KIT_FILES.certificate]).toEqual({ content: keys.certificate.certificatePem, secret: false });
    const readme = kit[TRUST_KIT_FILES.readme]!;
    expect(readme.secret).toBe(true);
    for (const value of [keys.publicKey.keyId, keys.certificate.serial, keys.apiKey, keys.apiV3Key]) {
      expect(readme.content).toContain(value);
    }
    expect(readme.content).toMatch(/never put any of this in a production/);
    for (const sdk of [
      'wechatpay-php',
      'wechatpay-java',
      'wechatpay-go',
      'wechatpay-axios-plugin',
      'wechatpayv3',
      'WxJava',
    ]) {
      expect(readme.content).toContain(sdk);
    }
    expect(readme.content).not.toContain('PRIVATE KEY');
  });
});
