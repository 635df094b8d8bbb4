import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bundleScript, loadSandboxFunctions } from '../../src/sandbox/bundle.js';
import { sandboxConstants } from '../../src/collection/sandbox-scripts.js';
import { buildFlatXml, parseFlatXml } from '../../src/protocol/v2/flat-xml.js';
import { verifyV2Sign } from '../../src/protocol/v2/sign-fields.js';
import { decryptReqInfo } from '../../src/protocol/v2/req-info.js';
import { decryptResource } from '../../src/protocol/v3/aes-gcm.js';
import { v3SignMessage, verifyV3 } from '../../src/protocol/v3/sign-message.js';
import { seededRandom, type SeededRandom } from '../support/seeded-random.js';

/**
 * The sandbox builders against the Node reference code on random input: whatever the signer sends,
 * Node's crypto must verify and decrypt it to exactly the plaintext the user sees in Postman.
 */
const sandbox = loadSandboxFunctions(bundleScript('prerequest', sandboxConstants('prerequest')));

const ALPHABET = 'abcXYZ019 _-.:/+=&<>"\'中文退款成功🎉é\t';
const KEY_ALPHABET = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'];
function randomText(random: SeededRandom, max: number): string {
  const chars = [...ALPHABET];
  return Array.from({ length: random.int(max + 1) }, () => random.pick(chars)).join('');
}
const randomKey = (random: SeededRandom): string =>
  Array.from({ length: 32 }, () => random.pick(KEY_ALPHABET)).join('');

describe('v2 builders vs Node', () => {
  it('payment: random fields, both sign types, with and without sign_type, verify in Node', () => {
    const random = seededRandom();
    for (let i = 0; i < 150; i++) {
      const fields: Record<string, string> = {
        appid: 'wx' + random.int(1e9),
        mch_id: String(random.int(1e9)),
        nonce_str: randomText(random, 32),
        total_fee: String(1 + random.int(1e6)),
      };
      for (let f = 0; f < random.int(6); f++) fields[`extra_${f}`] = randomText(random, 20);
      const cdata = Object.fromEntries(Object.keys(fields).map((k) => [k, k !== 'total_fee']));
      // One element per line, as in a body edited in Postman; laid out per field, not by a regex over
      // the XML, because a CDATA value may itself contain `</x>`.
      const element = (k: string): string =>
        buildFlatXml('xml', { [k]: fields[k]! }, cdata).slice('<xml>'.length, -'</xml>'.length);
      const xml = `<xml>${Object.keys(fields)
        .map((k) => `${element(k)}\n  `)
        .join('')}</xml>\n  `;
      const signType = i % 2 ? 'MD5' : 'HMAC-SHA256';
      const key = randomKey(random);
      const sent = parseFlatXml(sandbox.buildV2Payment!({ signType, signTypeField: i % 3 === 0 }, xml, key));
      for (const [k, v] of Object.entries(fields)) expect(sent.fields[k]).toBe(v);
      expect(sent.fields.sign).toHaveLength(signType === 'MD5' ? 32 : 64);
      expect(verifyV2Sign(sent.fields, key)).toBe(true);
    }
  });

  it('refund: random plaintext lengths (multiples of 16 included) decrypt in Node to the exact <root> sent', () => {
    const random = seededRandom();
    for (let len = 0; len < 80; len++) {
      const root = `<root><out_refund_no><![CDATA[${'x'.repeat(len)}]]></out_refund_no><refund_status><![CDATA[SUCCESS]]></refund_status></root>`;
      const key = randomKey(random);
      const sent = parseFlatXml(sandbox.buildV2Refund!({}, root, key, { appid: 'wx1', mch_id: '1' }, 'N'));
      expect(sent.fields.sign).toBeUndefined();
      const plain = decryptReqInfo(sent.fields.req_info!, key);
      expect(plain).toBe(root.replace('<root>', '<root>\n').replace(/(<\/\w+>)(?=<)/g, '$1\n'));
      expect(parseFlatXml(plain).fields).toEqual(parseFlatXml(root).fields);
    }
    // A plaintext whose UTF-8 length is exactly a multiple of 16 gets a whole padding block.
    const exact = '<root><a>' + '中'.repeat(3) + 'x</a></root>';
    const laidOut = '<root>\n<a>' + '中'.repeat(3) + 'x</a>\n</root>';
    expect(Buffer.byteLength(laidOut) % 16).toBe(0);
    const key = randomKey(random);
    expect(decryptReqInfo(parseFlatXml(sandbox.buildV2Refund!({}, exact, key, {}, 'N')).fields.req_info!, key)).toBe(
      laidOut,
    );
  });

  it('flat XML: the sandbox parser reads what the Node parser reads', () => {
    const random = seededRandom();
    for (let i = 0; i < 100; i++) {
      const fields: Record<string, string> = {};
      for (let f = 0; f < 1 + random.int(8); f++) fields[`f${f}`] = randomText(random, 15).replace(/]]>/g, '');
      const xml = buildFlatXml('xml', fields);
      expect(sandbox.parseFlatXml!(xml).fields).toEqual(parseFlatXml(xml).fields);
    }
  });
});

describe('v3 builder vs Node', () => {
  const keys = [0, 1].map(() => generateKeyPairSync('rsa', { modulusLength: 2048 }));
  const pems = keys.map((k) => k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const signers = {
    platform: { key: sandbox.parseRsaPrivateKeyPem!(pems[0]!), serial: 'PUB_KEY_ID_0001' },
    certificate: { key: sandbox.parseRsaPrivateKeyPem!(pems[1]!), serial: 'ABC123' },
  };
  const spec = {
    event: 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    originalType: 'transaction',
    associatedData: 'transaction',
    signer: 'platform',
  };

  it('random resources: Node verifies the signature over the raw body and decrypts the exact compact plaintext', () => {
    const random = seededRandom();
    for (let i = 0; i < 40; i++) {
      const resource = {
        out_trade_no: randomText(random, 32),
        attach: randomText(random, 200),
        amount: { total: random.int(1e6) },
      };
      const apiV3Key = randomKey(random);
      const d = sandbox.buildV3Delivery!(
        { ...spec, signer: i % 2 ? 'certificate' : 'platform', mutate: i % 3 === 0 ? { layout: 'spaced' } : undefined },
        JSON.stringify(resource, null, 2),
        {
          apiV3Key,
          signers,
          nowMs: Date.now(),
          nonce: 'n'.repeat(32),
          resourceNonce: randomKey(random).slice(0, 12),
          random,
        },
        null,
      );
      const h = d.headers;
      const publicKey = keys[i % 2 ? 1 : 0]!.publicKey;
      expect(h['Wechatpay-Serial']).toBe(i % 2 ? 'ABC123' : 'PUB_KEY_ID_0001');
      expect(
        verifyV3(
          v3SignMessage(h['Wechatpay-Timestamp'], h['Wechatpay-Nonce'], d.body),
          h['Wechatpay-Signature'],
          publicKey,
        ),
      ).toBe(true);
      const envelope = JSON.parse(d.body);
      expect(
        decryptResource(
          envelope.resource.ciphertext,
          apiV3Key,
          envelope.resource.nonce,
          envelope.resource.associated_data,
        ),
      ).toBe(JSON.stringify(resource));
    }
  });

  it('mutations break exactly what they claim', () => {
    const random = seededRandom();
    const inputs = {
      apiV3Key: randomKey(random),
      signers,
      nowMs: Date.now(),
      nonce: 'N'.repeat(32),
      resourceNonce: 'abcdefghijkl',
      random,
    };
    const verify = (d: any) =>
      verifyV3(
        v3SignMessage(d.headers['Wechatpay-Timestamp'], d.headers['Wechatpay-Nonce'], d.body),
        d.headers['Wechatpay-Signature'],
        keys[0]!.publicKey,
      );
    const build = (mutate: object) => sandbox.buildV3Delivery!({ ...spec, mutate }, '{"a":1}', inputs, null);
    expect(verify(build({}))).toBe(true);
    expect(verify(build({ signature: 'bad' }))).toBe(false);
    expect(build({ signature: 'signtest' }).headers['Wechatpay-Signature']).toMatch(/^WECHATPAY\/SIGNTEST\//);
    expect(verify(build({ tamperBody: true }))).toBe(false);
    const stale = build({ timestampOffset: -360 });
    expect(verify(stale)).toBe(true);
    expect(Number(stale.headers['Wechatpay-Timestamp'])).toBe(Math.floor(inputs.nowMs / 1000) - 360);
    expect(build({ serial: 'unknown' }).headers['Wechatpay-Serial']).not.toBe('PUB_KEY_ID_0001');
    expect(Object.keys(build({ dropHeaders: ['Wechatpay-Signature', 'Wechatpay-Serial'] }).headers)).not.toContain(
      'Wechatpay-Signature',
    );
    const other = JSON.parse(build({ apiV3Key: 'other' }).body);
    expect(() =>
      decryptResource(other.resource.ciphertext, inputs.apiV3Key, other.resource.nonce, 'transaction'),
    ).toThrow();
  });
});
