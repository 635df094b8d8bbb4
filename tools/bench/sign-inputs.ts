import { createCipheriv, createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEMPLATES_DIR } from '../../src/paths.js';
import type { BenchContext } from './harness.js';

/** One notification's worth of crypto: what each signer under comparison must produce. */
export interface SignInputs {
  pem: string;
  apiV3Key: string;
  nonce: string;
  aad: string;
  /** The decrypted resource, as in a real TRANSACTION.SUCCESS notification. */
  plaintext: string;
  /** timestamp\nnonce\nbody\n over a real-sized envelope. */
  message: string;
  /** node:crypto's answers: every signer must match them byte for byte. */
  expected: { signature: string; ciphertext: string };
}

export function signInputs(ctx: BenchContext): SignInputs {
  const values: Record<string, string> = {
    mchid: '1900000109',
    appid: 'wx2421b1c4370ec43b',
    out_trade_no: 'T20261127000001',
    transaction_id: '4200000000000000000000000001',
    wxpay_success_time: '2026-11-27T10:00:00+08:00',
    openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    total: '1',
  };
  const template = readFileSync(join(TEMPLATES_DIR, 'v3/transaction-success.json'), 'utf8');
  const plaintext = JSON.stringify(
    JSON.parse(template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => values[name] ?? '')),
  );
  const apiV3Key = ctx.keys.apiV3Key;
  const nonce = 'fZAbCdEfGhIj';
  const aad = 'transaction';
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString(
    'base64',
  );
  const envelope = JSON.stringify({
    id: 'EV-2018022511223320873',
    create_time: values.wxpay_success_time,
    resource_type: 'encrypt-resource',
    event_type: 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    resource: { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', ciphertext, associated_data: aad, nonce },
  });
  const message = `1796000000\n${'N'.repeat(32)}\n${envelope}\n`;
  const pem = ctx.keys.publicKey.privateKeyPem;
  const signature = sign('sha256', Buffer.from(message, 'utf8'), createPrivateKey(pem)).toString('base64');
  return { pem, apiV3Key, nonce, aad, plaintext, message, expected: { signature, ciphertext } };
}

/** The inputs as environment variables, so the sandbox scripts read them as a real script reads keys. */
export function signInputsEnvironment(inputs: SignInputs): Record<string, unknown> {
  const values = {
    bench_pem: inputs.pem,
    bench_key: inputs.apiV3Key,
    bench_nonce: inputs.nonce,
    bench_aad: inputs.aad,
    bench_plaintext: inputs.plaintext,
    bench_message: inputs.message,
  };
  return {
    name: 'bench',
    values: Object.entries(values).map(([key, value]) => ({ key, value, type: 'default', enabled: true })),
  };
}
