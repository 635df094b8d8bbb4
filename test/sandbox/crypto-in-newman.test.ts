import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, createHmac, generateKeyPairSync } from 'node:crypto';
import newman from 'newman';
import { SANDBOX_DIR } from '../../src/paths.js';
import { encryptReqInfo, refundAesKey } from '../../src/protocol/v2/req-info.js';
import { encryptResource } from '../../src/protocol/v3/aes-gcm.js';
import { signV3, v3SignMessage } from '../../src/protocol/v3/sign-message.js';

/**
 * Runs src/sandbox/lib/crypto.js inside newman's real sandbox (crypto-js 3.x, its own Buffer, no
 * require('crypto')) and checks the results against Node. The script is built from the lib file
 * alone, wrapped the way bundle.ts wraps it, so it does not depend on the (changing) entry scripts.
 */
const LIB = readFileSync(join(SANDBOX_DIR, 'lib', 'crypto.js'), 'utf8').trim();

const PROBE = `
var env = pm.environment;
var key = parseRsaPrivateKeyPem(env.get('pem'));
var results = {
  sig: rsaSha256SignBase64(key, env.get('message')),
  sigEmpty: rsaSha256SignBase64(key, ''),
  gcm: aesGcmEncryptBase64(env.get('v3Key'), env.get('nonce'), env.get('aad'), env.get('plaintext')),
  gcmPlain: aesGcmDecryptText(env.get('v3Key'), env.get('nonce'), env.get('aad'), env.get('nodeGcm')),
  ecb: aesEcbEncryptBase64(md5Hex(env.get('v2Key')), env.get('plaintext')),
  ecbPlain: aesEcbDecryptText(md5Hex(env.get('v2Key')), env.get('nodeEcb')),
  md5: md5Hex(env.get('message')),
  hmac: hmacSha256Hex(env.get('v2Key'), env.get('message')),
  sha256: sha256Hex(env.get('message')),
  nonce: randomAlphanumeric(32),
  tamperedThrows: false,
  sandbox: {
    BigInt: typeof BigInt, Buffer: typeof Buffer, TextEncoder: typeof TextEncoder,
    globalThis: typeof globalThis, cryptoJsCtr: typeof CryptoJS.mode.CTR,
    nodeCrypto: (function () { try { require('crypto'); return 'available'; } catch (e) { return 'missing'; } })()
  }
};
try { aesGcmDecryptText(env.get('v3Key'), env.get('nonce'), 'other', env.get('nodeGcm')); } catch (e) { results.tamperedThrows = true; }
pm.variables.set('results', JSON.stringify(results));
pm.test('signature equals Node', function () { pm.expect(results.sig).to.equal(env.get('expectedSig')); });
pm.test('GCM equals Node', function () { pm.expect(results.gcm).to.equal(env.get('nodeGcm')); });
`;

function sandboxScript(): string {
  return ['(function () {', "'use strict';", "var CryptoJS = require('crypto-js');", LIB, PROBE, '})();'].join('\n');
}

interface Results {
  sig: string;
  sigEmpty: string;
  gcm: string;
  gcmPlain: string;
  ecb: string;
  ecbPlain: string;
  md5: string;
  hmac: string;
  sha256: string;
  nonce: string;
  tamperedThrows: boolean;
  sandbox: Record<string, string>;
}

describe('sandbox crypto inside newman', () => {
  let server: Server;
  let port: number;
  const received: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"code":"SUCCESS"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('computes the same bytes as Node in the real Postman sandbox', async () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const message = v3SignMessage('1700000000', 'n0nceN0nce', '{"summary":"支付成功 🧧"}');
    const v3Key = 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb';
    const v2Key = '192006250b4c09247ec02edce69f6a2d';
    const [nonce, aad, plaintext] = [
      'uluk4a9R25RW',
      'transaction',
      '<root><refund_fee>1</refund_fee><x>微信</x></root>',
    ];
    const env: Record<string, string> = {
      pem,
      message,
      v3Key,
      v2Key,
      nonce,
      aad,
      plaintext,
      expectedSig: signV3(message, pem),
      nodeGcm: encryptResource(plaintext, v3Key, nonce, aad),
      nodeEcb: encryptReqInfo(plaintext, v2Key),
    };

    const collection = {
      info: {
        name: 'crypto-in-newman',
        schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
      },
      item: [
        {
          name: 'probe',
          event: [{ listen: 'prerequest', script: { type: 'text/javascript', exec: sandboxScript().split('\n') } }],
          request: {
            method: 'POST',
            url: `http://127.0.0.1:${port}/probe`,
            header: [{ key: 'Content-Type', value: 'application/json' }],
            body: { mode: 'raw', raw: '{{results}}' },
          },
        },
      ],
    };
    const environment = {
      name: 'probe',
      values: Object.entries(env).map(([key, value]) => ({ key, value, type: 'default' })),
    };

    const summary = await new Promise<newman.NewmanRunSummary>((resolve, reject) => {
      newman.run({ collection, environment, reporters: [] }, (err, result) => (err ? reject(err) : resolve(result)));
    });

    expect(summary.run.failures.map((f) => f.error?.message)).toEqual([]);
    expect(summary.run.stats.assertions.total).toBe(2);
    expect(received).toHaveLength(1);
    const results = JSON.parse(received[0]!) as Results;

    expect(results.sig).toBe(env.expectedSig);
    expect(results.sigEmpty).toBe(signV3('', pem));
    expect(results.gcm).toBe(env.nodeGcm);
    expect(results.gcmPlain).toBe(plaintext);
    expect(results.ecb).toBe(env.nodeEcb);
    expect(results.ecbPlain).toBe(plaintext);
    expect(results.md5).toBe(createHash('md5').update(message, 'utf8').digest('hex'));
    expect(results.md5.length).toBe(refundAesKey(v2Key).length);
    expect(results.hmac).toBe(createHmac('sha256', v2Key).update(message, 'utf8').digest('hex'));
    expect(results.sha256).toBe(createHash('sha256').update(message, 'utf8').digest('hex'));
    expect(results.nonce).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(results.tamperedThrows).toBe(true);
    expect(results.sandbox).toEqual({
      BigInt: 'function',
      Buffer: 'function',
      TextEncoder: 'undefined',
      globalThis: 'undefined',
      cryptoJsCtr: 'object',
      nodeCrypto: 'missing',
    });
    // Their speed (RSA-2048 < 100 ms, AES-GCM of 1 KB < 50 ms) is a target of `npm run bench` (row 3).
  }, 60_000);
});
