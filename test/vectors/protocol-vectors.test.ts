import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signV2Fields, v2StringToSign, verifyV2Sign } from '../../src/protocol/v2/sign-fields.js';
import { aesEcbEncryptBase64, decryptReqInfo, encryptReqInfo, refundAesKey } from '../../src/protocol/v2/req-info.js';
import { decryptResource, encryptResource } from '../../src/protocol/v3/aes-gcm.js';
import { buildFlatXml, parseFlatXml } from '../../src/protocol/v2/flat-xml.js';
import { bundleScript, loadSandboxFunctions } from '../../src/sandbox/bundle.js';
import { sandboxConstants } from '../../src/collection/sandbox-scripts.js';
import { AES_ECB, AES_GCM, D1, D2, D3, DOC_KEY, REFUND_FIXTURE_XML, V2_DOC_EXAMPLE } from './vectors.js';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

// The sandbox functions come from the script exactly as it goes into the collection.
const sandbox = loadSandboxFunctions(bundleScript('prerequest', sandboxConstants('prerequest')));

describe('docs/protocol.md test vectors: Node reference code', () => {
  it('v2 sign of the official example (MD5 and HMAC-SHA256)', () => {
    expect(v2StringToSign(V2_DOC_EXAMPLE.fields, DOC_KEY)).toBe(
      'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d',
    );
    expect(signV2Fields(V2_DOC_EXAMPLE.fields, DOC_KEY, 'MD5')).toBe(V2_DOC_EXAMPLE.md5);
    expect(signV2Fields(V2_DOC_EXAMPLE.fields, DOC_KEY, 'HMAC-SHA256')).toBe(V2_DOC_EXAMPLE.hmac);
  });

  it('D1: payment notify signs; empty attach is left out; verification infers the type from the length', () => {
    expect(signV2Fields(D1.fields, DOC_KEY, 'MD5')).toBe(D1.md5);
    expect(signV2Fields(D1.fields, DOC_KEY, 'HMAC-SHA256')).toBe(D1.hmacWithoutSignType);
    expect(verifyV2Sign({ ...D1.fields, sign: D1.hmacWithoutSignType }, DOC_KEY)).toBe(true);
    expect(verifyV2Sign({ ...D1.fields, sign: D1.md5 }, DOC_KEY)).toBe(true);
    expect(verifyV2Sign({ ...D1.fields, total_fee: '101', sign: D1.md5 }, DOC_KEY)).toBe(false);
  });

  it('AES-ECB vector and D2 refund req_info (deterministic)', () => {
    expect(aesEcbEncryptBase64(AES_ECB.plaintext, AES_ECB.key)).toBe(AES_ECB.base64);
    expect(refundAesKey(DOC_KEY)).toBe(D2.aesKey);
    expect(sha256(REFUND_FIXTURE_XML)).toBe(D2.plaintextSha256);
    const reqInfo = encryptReqInfo(REFUND_FIXTURE_XML, DOC_KEY);
    expect(reqInfo).toHaveLength(D2.reqInfoLength);
    expect(reqInfo.startsWith(D2.reqInfoStart)).toBe(true);
    expect(reqInfo.endsWith(D2.reqInfoEnd)).toBe(true);
    expect(decryptReqInfo(reqInfo, DOC_KEY)).toBe(REFUND_FIXTURE_XML);
  });

  it('AES-GCM vector and D3 resource ciphertext and envelope', () => {
    expect(encryptResource(AES_GCM.plaintext, AES_GCM.key, AES_GCM.nonce, AES_GCM.aad)).toBe(AES_GCM.ciphertext);
    const ciphertext = encryptResource(D3.plaintext, D3.apiV3Key, D3.nonce, D3.aad);
    expect(ciphertext.startsWith(D3.ciphertextStart)).toBe(true);
    const body = D3.envelope(ciphertext);
    expect(Buffer.byteLength(body)).toBe(D3.bodyBytes);
    expect(sha256(body)).toBe(D3.bodySha256);
    expect(decryptResource(ciphertext, D3.apiV3Key, D3.nonce, D3.aad)).toBe(D3.plaintext);
  });

  it('flat XML round trip keeps CDATA and bare integers', () => {
    const doc = parseFlatXml('<xml><a><![CDATA[x & y]]></a><n>1</n><e></e></xml>');
    expect(doc).toEqual({ root: 'xml', fields: { a: 'x & y', n: '1', e: '' }, cdata: { a: true, n: false, e: false } });
    expect(buildFlatXml(doc.root, doc.fields, doc.cdata)).toBe('<xml><a><![CDATA[x & y]]></a><n>1</n><e></e></xml>');
  });
});

describe('docs/protocol.md test vectors: the sandbox script as shipped in the collection', () => {
  it('v2 sign (official example, D1 MD5 and HMAC without sign_type)', () => {
    expect(sandbox.v2Sign!(V2_DOC_EXAMPLE.fields, DOC_KEY, 'MD5')).toBe(V2_DOC_EXAMPLE.md5);
    expect(sandbox.v2Sign!(V2_DOC_EXAMPLE.fields, DOC_KEY, 'HMAC-SHA256')).toBe(V2_DOC_EXAMPLE.hmac);
    expect(sandbox.v2Sign!(D1.fields, DOC_KEY, 'MD5')).toBe(D1.md5);
    expect(sandbox.v2Sign!(D1.fields, DOC_KEY, 'HMAC-SHA256')).toBe(D1.hmacWithoutSignType);
  });

  it('D1 through the payment builder: the sent XML carries the vector sign', () => {
    const xml = buildFlatXml('xml', D1.fields);
    const md5 = parseFlatXml(sandbox.buildV2Payment!({ signType: 'MD5', signTypeField: false }, xml, DOC_KEY));
    expect(md5.fields.sign).toBe(D1.md5);
    expect(md5.fields.sign_type).toBeUndefined();
    const hmac = parseFlatXml(sandbox.buildV2Payment!({ signType: 'HMAC-SHA256', signTypeField: false }, xml, DOC_KEY));
    expect(hmac.fields.sign).toBe(D1.hmacWithoutSignType);
    const withType = parseFlatXml(
      sandbox.buildV2Payment!({ signType: 'HMAC-SHA256', signTypeField: true }, xml, DOC_KEY),
    );
    expect(withType.fields.sign_type).toBe('HMAC-SHA256');
    expect(verifyV2Sign(withType.fields, DOC_KEY)).toBe(true);
  });

  it('AES-ECB vector and D2 through the refund builder', () => {
    expect(sandbox.aesEcbEncryptBase64!(AES_ECB.key, AES_ECB.plaintext)).toBe(AES_ECB.base64);
    // D2 is the fixture on one line; the sandbox's AES-ECB under md5(key) reproduces it.
    expect(sandbox.aesEcbEncryptBase64!(sandbox.md5Hex!(DOC_KEY), REFUND_FIXTURE_XML)).toBe(
      encryptReqInfo(REFUND_FIXTURE_XML, DOC_KEY),
    );
    expect(encryptReqInfo(REFUND_FIXTURE_XML, DOC_KEY).startsWith(D2.reqInfoStart)).toBe(true);
    // The builder sends the <root> laid out as the fixture file is (a newline after the opening tag
    // and after every field), inside a compact outer <xml> whose return_code alone is bare.
    const pretty = REFUND_FIXTURE_XML.replace(/></g, '>\n  <');
    const body = sandbox.buildV2Refund!({}, pretty, DOC_KEY, { appid: 'wx1', mch_id: '10000100' }, 'NONCE');
    expect(
      body.startsWith(
        '<xml><return_code>SUCCESS</return_code><appid><![CDATA[wx1]]></appid><mch_id><![CDATA[10000100]]></mch_id><nonce_str><![CDATA[NONCE]]></nonce_str><req_info><![CDATA[',
      ),
    ).toBe(true);
    const sent = parseFlatXml(body);
    expect(sent.root).toBe('xml');
    expect(Object.keys(sent.fields)).toEqual(['return_code', 'appid', 'mch_id', 'nonce_str', 'req_info']);
    const asLaidOut = REFUND_FIXTURE_XML.replace('<root>', '<root>\n').replace(/(<\/\w+>)(?=<)/g, '$1\n');
    expect(sent.fields.req_info).toBe(encryptReqInfo(asLaidOut, DOC_KEY));
  });

  it('AES-GCM vector and the D3 ciphertext', () => {
    expect(sandbox.aesGcmEncryptBase64!(AES_GCM.key, AES_GCM.nonce, AES_GCM.aad, AES_GCM.plaintext)).toBe(
      AES_GCM.ciphertext,
    );
    const ciphertext = sandbox.aesGcmEncryptBase64!(D3.apiV3Key, D3.nonce, D3.aad, D3.plaintext);
    expect(sha256(D3.envelope(ciphertext))).toBe(D3.bodySha256);
  });
});
