import { describe, it, expect, beforeAll } from 'vitest';
import { createCipheriv, createHash, createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { bundleScript, libraryScript, loadSandboxFunctions } from '../../src/sandbox/bundle.js';
import { sandboxConstants } from '../../src/collection/sandbox-scripts.js';
import { aesEcbEncryptBase64, decryptReqInfo, encryptReqInfo, refundAesKey } from '../../src/protocol/v2/req-info.js';
import { decryptResource, encryptResource } from '../../src/protocol/v3/aes-gcm.js';
import { signV3, v3SignMessage, verifyV3 } from '../../src/protocol/v3/sign-message.js';
import { fakePem } from '../support/fake-pem.js';
import { seededRandom } from '../support/seeded-random.js';

/**
 * The sandbox crypto (src/sandbox/lib/crypto.js), loaded from the bundle exactly as it goes into
 * the collection, must agree byte for byte with Node's crypto and the protocol reference code.
 */
interface RsaKey {
  n: bigint;
  e: bigint;
  d: bigint;
  p: bigint;
  q: bigint;
  dp: bigint;
  dq: bigint;
  qi: bigint;
  bits: number;
}
interface SandboxCrypto {
  md5Hex(text: string): string;
  hmacSha256Hex(key: string, text: string): string;
  sha256Hex(text: string): string;
  aesEcbEncryptBase64(keyText: string, plaintext: string): string;
  aesEcbDecryptText(keyText: string, base64: string): string;
  aesGcmEncryptBase64(keyText: string, nonceText: string, aadText: string, plaintext: string): string;
  aesGcmDecryptText(keyText: string, nonceText: string, aadText: string, base64: string): string;
  parseRsaPrivateKeyPem(pem: string | Buffer): RsaKey;
  rsaSha256SignBase64(key: RsaKey, text: string): string;
  randomAlphanumeric(length: number): string;
}
const API: readonly (keyof SandboxCrypto)[] = [
  'md5Hex',
  'hmacSha256Hex',
  'sha256Hex',
  'aesEcbEncryptBase64',
  'aesEcbDecryptText',
  'aesGcmEncryptBase64',
  'aesGcmDecryptText',
  'parseRsaPrivateKeyPem',
  'rsaSha256SignBase64',
  'randomAlphanumeric',
];
// What the collection ships is tested from the bundle exactly as generated; decryption (never
// shipped: the sandbox only encrypts) from the full library, to check round trips.
const shipped = loadSandboxFunctions(bundleScript('prerequest', sandboxConstants('prerequest')));
const library = loadSandboxFunctions(libraryScript(['crypto.js']));
const exported = { ...library, ...shipped };
const sandbox = exported as unknown as SandboxCrypto;
const SHIPPED: readonly (keyof SandboxCrypto)[] = [
  'md5Hex',
  'hmacSha256Hex',
  'aesEcbEncryptBase64',
  'aesGcmEncryptBase64',
  'parseRsaPrivateKeyPem',
  'rsaSha256SignBase64',
  'randomAlphanumeric',
];

it('the bundle exports the whole crypto API', () => {
  for (const name of API) expect(typeof exported[name], name).toBe('function');
  for (const name of SHIPPED) expect(typeof shipped[name], `${name} in the collection's script`).toBe('function');
});

const ASCII = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 <>&"\'=/\n\t';
const MIXED = [...ASCII, '微', '信', '支', '付', '退', '款', '元', '😀', '🧧', 'é', 'ß', '\u0000'];

function randomText(rand: () => number, length: number, alphabet: readonly string[] = MIXED): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(rand() * alphabet.length)];
  return out;
}

const ASCII_CHARS = [...ASCII.replace(/[\s<>&"'=/]/g, '')];

function nodeEcb(key: string, plaintext: string): string {
  const keyBytes = Buffer.from(key, 'utf8');
  const cipher = createCipheriv(`aes-${keyBytes.length * 8}-ecb`, keyBytes, null);
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

describe('sandbox crypto: published vectors', () => {
  const v2String =
    'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d';

  it('AES-256-ECB (SDK vector)', () => {
    expect(sandbox.aesEcbEncryptBase64('0123456789abcdef0123456789abcdef', 'hello')).toBe('pZwJZBLuy3mDACEQT4YTBw==');
    expect(aesEcbEncryptBase64('hello', '0123456789abcdef0123456789abcdef')).toBe('pZwJZBLuy3mDACEQT4YTBw==');
    expect(sandbox.aesEcbDecryptText('0123456789abcdef0123456789abcdef', 'pZwJZBLuy3mDACEQT4YTBw==')).toBe('hello');
  });

  it('AES-256-GCM (APIv3 doc vector)', () => {
    const args = ['a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb', 'uluk4a9R25RW', 'associatedData'] as const;
    expect(sandbox.aesGcmEncryptBase64(...args, 'message')).toBe('ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=');
    expect(sandbox.aesGcmDecryptText(...args, 'ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=')).toBe('message');
  });

  it('AES-128-GCM decrypts the 16-byte-key vector', () => {
    const args = ['testAPIv3Key0000', 'wCq51qZv4Yfg', 'Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8'] as const;
    expect(sandbox.aesGcmDecryptText(...args, 'FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC')).toBe('Hello World');
    expect(sandbox.aesGcmEncryptBase64(...args, 'Hello World')).toBe('FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC');
  });

  it('v2 MD5 and HMAC-SHA256 signs (APIv2 doc vector)', () => {
    expect(sandbox.md5Hex(v2String).toUpperCase()).toBe('9A0A8659F005D6984697E2CA0A9CF3B7');
    expect(sandbox.hmacSha256Hex('192006250b4c09247ec02edce69f6a2d', v2String).toUpperCase()).toBe(
      '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6',
    );
  });

  it('refund req_info: MD5-derived key, same bytes as the Node reference', () => {
    const apiKey = '192006250b4c09247ec02edce69f6a2d';
    const xml = '<root><out_refund_no><![CDATA[退款-1]]></out_refund_no><refund_fee>1</refund_fee></root>';
    expect(sandbox.md5Hex(apiKey)).toBe(refundAesKey(apiKey));
    const reqInfo = sandbox.aesEcbEncryptBase64(sandbox.md5Hex(apiKey), xml);
    expect(reqInfo).toBe(encryptReqInfo(xml, apiKey));
    expect(decryptReqInfo(reqInfo, apiKey)).toBe(xml);
    expect(sandbox.aesEcbDecryptText(refundAesKey(apiKey), encryptReqInfo(xml, apiKey))).toBe(xml);
  });
});

describe('sandbox crypto: hashes match Node', () => {
  it('md5Hex, sha256Hex, hmacSha256Hex over 200 random UTF-8 strings', () => {
    const rand = seededRandom();
    for (let i = 0; i < 200; i++) {
      const text = randomText(rand, Math.floor(rand() * 150));
      const key = randomText(rand, Math.floor(rand() * 80));
      expect(sandbox.md5Hex(text)).toBe(createHash('md5').update(text, 'utf8').digest('hex'));
      expect(sandbox.sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
      // keys longer than the 64-byte block are hashed first; both paths are covered by length 0..80
      expect(sandbox.hmacSha256Hex(key, text)).toBe(createHmac('sha256', key).update(text, 'utf8').digest('hex'));
    }
  });

  it('encodes a lone surrogate as Node does (U+FFFD)', () => {
    expect(sandbox.md5Hex('a\uD800b')).toBe(createHash('md5').update('a\uD800b', 'utf8').digest('hex'));
  });
});

describe('sandbox crypto: AES-ECB matches Node', () => {
  it('every plaintext length 0..70 with 16/24/32-byte keys, incl. full padding blocks', () => {
    const rand = seededRandom();
    for (let length = 0; length <= 70; length++) {
      for (const keyLength of [16, 24, 32]) {
        const key = randomText(rand, keyLength, ASCII_CHARS);
        const plaintext = randomText(rand, length, ASCII_CHARS);
        const ours = sandbox.aesEcbEncryptBase64(key, plaintext);
        expect(ours, `length ${length}, key ${keyLength}`).toBe(nodeEcb(key, plaintext));
        expect(Buffer.from(ours, 'base64').length).toBe((Math.floor(length / 16) + 1) * 16);
        expect(sandbox.aesEcbDecryptText(key, ours)).toBe(plaintext);
      }
    }
  });

  it('200 random non-ASCII plaintexts and keys', () => {
    const rand = seededRandom();
    for (let i = 0; i < 200; i++) {
      // a UTF-8 key made of 3-byte characters and ASCII that adds up to 32 bytes
      const key = i % 2 === 0 ? randomText(rand, 32, ASCII_CHARS) : '微信支付' + randomText(rand, 20, ASCII_CHARS);
      const plaintext = randomText(rand, Math.floor(rand() * 71));
      const ours = sandbox.aesEcbEncryptBase64(key, plaintext);
      expect(ours).toBe(nodeEcb(key, plaintext));
      expect(sandbox.aesEcbDecryptText(key, nodeEcb(key, plaintext))).toBe(plaintext);
    }
  });

  it('rejects wrong keys, truncated input and bad key lengths', () => {
    const good = sandbox.aesEcbEncryptBase64('0123456789abcdef0123456789abcdef', '<xml>hello</xml>');
    expect(() => sandbox.aesEcbDecryptText('fedcba9876543210fedcba9876543210', good)).toThrow(
      /req_info does not decrypt/,
    );
    const truncated = Buffer.from(good, 'base64').subarray(0, 20).toString('base64');
    expect(() => sandbox.aesEcbDecryptText('0123456789abcdef0123456789abcdef', truncated)).toThrow(
      /req_info does not decrypt/,
    );
    expect(() => sandbox.aesEcbDecryptText('0123456789abcdef0123456789abcdef', '')).toThrow(
      /req_info does not decrypt/,
    );
    expect(() => sandbox.aesEcbEncryptBase64('short', 'x')).toThrow(/16, 24 or 32 bytes, got 5/);
    // 11 characters but 33 UTF-8 bytes: length is counted in bytes, as Node does
    expect(() => sandbox.aesEcbEncryptBase64('微信支付微信支付微信支', 'x')).toThrow(/got 33/);
  });
});

describe('sandbox crypto: AES-GCM matches Node', () => {
  const boundaryLengths = [0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 1000, 1023, 1024, 1025, 2053];

  it('plaintext lengths around block boundaries, AAD 0..20 chars, 16/24/32-byte keys', () => {
    const rand = seededRandom();
    for (const length of boundaryLengths) {
      for (const keyLength of [16, 24, 32]) {
        const key = randomText(rand, keyLength, ASCII_CHARS);
        const nonce = randomText(rand, 12, ASCII_CHARS);
        const aad = randomText(rand, Math.floor(rand() * 21), ASCII_CHARS);
        const plaintext = randomText(rand, length, ASCII_CHARS);
        const ours = sandbox.aesGcmEncryptBase64(key, nonce, aad, plaintext);
        expect(ours, `length ${length}, key ${keyLength}`).toBe(encryptResource(plaintext, key, nonce, aad));
        expect(sandbox.aesGcmDecryptText(key, nonce, aad, ours)).toBe(plaintext);
      }
    }
  });

  it('200 random non-ASCII resources with 32-char keys', () => {
    const rand = seededRandom();
    for (let i = 0; i < 200; i++) {
      const key = randomText(rand, 32, ASCII_CHARS);
      const nonce = randomText(rand, 12, ASCII_CHARS);
      const aad = randomText(rand, Math.floor(rand() * 21), ASCII_CHARS);
      const plaintext = JSON.stringify({
        description: randomText(rand, Math.floor(rand() * 90)),
        amount: { total: i },
      });
      const ours = sandbox.aesGcmEncryptBase64(key, nonce, aad, plaintext);
      expect(ours).toBe(encryptResource(plaintext, key, nonce, aad));
      expect(sandbox.aesGcmDecryptText(key, nonce, aad, ours)).toBe(plaintext);
      expect(decryptResource(ours, key, nonce, aad)).toBe(plaintext);
    }
  });

  it('an empty AAD (WeChat sends associated_data "" for some events)', () => {
    const args = ['a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb', 'uluk4a9R25RW', ''] as const;
    expect(sandbox.aesGcmEncryptBase64(...args, '{"a":1}')).toBe(encryptResource('{"a":1}', ...args));
  });

  it('throws on a tampered tag, ciphertext, AAD or nonce, and on input shorter than the tag', () => {
    const [key, nonce, aad] = ['a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb', 'uluk4a9R25RW', 'transaction'];
    const good = Buffer.from(sandbox.aesGcmEncryptBase64(key, nonce, aad, '{"trade_state":"SUCCESS"}'), 'base64');
    const flip = (index: number) => {
      const copy = Buffer.from(good);
      copy[index]! ^= 0x01;
      return copy.toString('base64');
    };
    expect(() => sandbox.aesGcmDecryptText(key, nonce, aad, flip(good.length - 1))).toThrow(/tag mismatch/);
    expect(() => sandbox.aesGcmDecryptText(key, nonce, aad, flip(0))).toThrow(/tag mismatch/);
    expect(() => sandbox.aesGcmDecryptText(key, nonce, 'refund', good.toString('base64'))).toThrow(/tag mismatch/);
    expect(() => sandbox.aesGcmDecryptText(key, 'uluk4a9R25RX', aad, good.toString('base64'))).toThrow(/tag mismatch/);
    expect(() => sandbox.aesGcmDecryptText(key, nonce, aad, 'AAAA')).toThrow(/shorter than its 16-byte tag/);
  });

  it('rejects nonces that are not 12 bytes and keys of the wrong length', () => {
    expect(() => sandbox.aesGcmEncryptBase64('a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb', 'short', '', 'x')).toThrow(/12 bytes/);
    expect(() => sandbox.aesGcmEncryptBase64('a7cde1ZJB1kG2e7VfTs3jQzaWizur8G', 'uluk4a9R25RW', '', 'x')).toThrow(
      /16, 24 or 32 bytes, got 31/,
    );
  });
});

describe('sandbox crypto: RSA-SHA256 matches Node', () => {
  let pkcs8: string;
  let pkcs8Key: KeyObject;
  let pkcs1: string;
  let pkcs8Large: string;

  beforeAll(() => {
    pkcs8Key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    pkcs8 = pkcs8Key.export({ type: 'pkcs8', format: 'pem' }) as string;
    pkcs1 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs1',
      format: 'pem',
    }) as string;
    pkcs8Large = generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
  }, 60_000);

  it('parses every component of a PKCS#8 key', () => {
    const jwk = pkcs8Key.export({ format: 'jwk' });
    const big = (value: string | undefined) => BigInt('0x' + Buffer.from(value!, 'base64url').toString('hex'));
    const key = sandbox.parseRsaPrivateKeyPem(pkcs8);
    expect(key).toEqual({
      n: big(jwk.n),
      e: big(jwk.e),
      d: big(jwk.d),
      p: big(jwk.p),
      q: big(jwk.q),
      dp: big(jwk.dp),
      dq: big(jwk.dq),
      qi: big(jwk.qi),
      bits: 2048,
    });
  });

  it('20 random messages incl. non-ASCII and empty, with a 2048-bit PKCS#8 key', () => {
    const rand = seededRandom();
    const key = sandbox.parseRsaPrivateKeyPem(pkcs8);
    const messages = ['', '微信支付 🧧', v3SignMessage('1700000000', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ123456', '{"id":"1"}')];
    while (messages.length < 20) messages.push(randomText(rand, Math.floor(rand() * 400)));
    for (const message of messages) {
      const ours = sandbox.rsaSha256SignBase64(key, message);
      expect(ours).toBe(signV3(message, pkcs8));
      expect(verifyV3(message, ours, pkcs8Key)).toBe(true);
    }
  });

  it('PKCS#1 PEM with \\r\\n line endings and surrounding whitespace', () => {
    const key = sandbox.parseRsaPrivateKeyPem(`\n  ${pkcs1.replace(/\n/g, '\r\n')}  \r\n`);
    expect(key.bits).toBe(2048);
    for (const message of ['', 'hello', '退款成功\n']) {
      expect(sandbox.rsaSha256SignBase64(key, message)).toBe(signV3(message, pkcs1));
    }
  });

  it('3072-bit key: signature is 384 bytes and matches', () => {
    const key = sandbox.parseRsaPrivateKeyPem(pkcs8Large);
    expect(key.bits).toBe(3072);
    for (const message of ['', 'a', '微信支付通知']) {
      const ours = sandbox.rsaSha256SignBase64(key, message);
      expect(Buffer.from(ours, 'base64').length).toBe(384);
      expect(ours).toBe(signV3(message, pkcs8Large));
    }
  });

  it('keeps leading zero bytes: signature length is always the key length', () => {
    // About 1 in 256 signatures starts with 0x00; search until one does so padding is really exercised.
    const key = sandbox.parseRsaPrivateKeyPem(pkcs8);
    let found = 0;
    for (let i = 0; i < 3000 && found === 0; i++) {
      const ours = sandbox.rsaSha256SignBase64(key, `message ${i}`);
      const bytes = Buffer.from(ours, 'base64');
      expect(bytes.length).toBe(256);
      if (bytes[0] === 0) {
        found++;
        expect(ours).toBe(signV3(`message ${i}`, pkcs8));
      }
    }
    expect(found).toBe(1);
  }, 60_000);

  it('signs right despite a damaged CRT part (as OpenSSL does), and refuses a key that cannot sign', () => {
    const key = sandbox.parseRsaPrivateKeyPem(pkcs8);
    const good = sandbox.rsaSha256SignBase64(key, 'x');
    expect(sandbox.rsaSha256SignBase64({ ...key, qi: key.qi + 1n }, 'x')).toBe(good);
    expect(() => sandbox.rsaSha256SignBase64({ ...key, qi: key.qi + 1n, d: key.d + 2n }, 'x')).toThrow(/inconsistent/);
  });
});

describe('sandbox crypto: private key parse errors', () => {
  it('encrypted PKCS#8 and PKCS#1 PEMs', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    for (const type of ['pkcs8', 'pkcs1'] as const) {
      const pem = privateKey.export({ type, format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string;
      expect(() => sandbox.parseRsaPrivateKeyPem(pem), type).toThrow(
        'the private key is encrypted; export it without a passphrase',
      );
    }
  });

  it('EC keys (PKCS#8 and SEC1)', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(() => sandbox.parseRsaPrivateKeyPem(privateKey.export({ type: 'pkcs8', format: 'pem' }))).toThrow(/not RSA/);
    expect(() => sandbox.parseRsaPrivateKeyPem(privateKey.export({ type: 'sec1', format: 'pem' }))).toThrow(/not RSA/);
  });

  it('public keys, garbage and damaged PEM', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() => sandbox.parseRsaPrivateKeyPem(publicKey.export({ type: 'spki', format: 'pem' }))).toThrow(
      /got PUBLIC KEY/,
    );
    expect(() => sandbox.parseRsaPrivateKeyPem('not a key at all')).toThrow(/not PEM/);
    expect(() => sandbox.parseRsaPrivateKeyPem('')).toThrow(/not PEM/);
    expect(() => sandbox.parseRsaPrivateKeyPem(fakePem('!!!'))).toThrow(/not base64/);
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const lines = pem.trim().split('\n');
    const cut = [...lines.slice(0, 5), lines[lines.length - 1]].join('\n');
    expect(() => sandbox.parseRsaPrivateKeyPem(cut)).toThrow(/truncated/);
  });
});

describe('sandbox crypto: randomAlphanumeric', () => {
  it('gives the requested length from [A-Za-z0-9] and differs between calls', () => {
    const a = sandbox.randomAlphanumeric(32);
    expect(a).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(sandbox.randomAlphanumeric(32)).not.toBe(a);
    expect(sandbox.randomAlphanumeric(0)).toBe('');
    const all = sandbox.randomAlphanumeric(5000);
    expect(new Set(all).size).toBe(62);
  });
});
