import { createCipheriv, createDecipheriv } from 'node:crypto';

const TAG_BYTES = 16;

function gcmName(key: Buffer): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  if (key.length === 16) return 'aes-128-gcm';
  if (key.length === 24) return 'aes-192-gcm';
  if (key.length === 32) return 'aes-256-gcm';
  throw new Error(`AES-GCM key must be 16, 24 or 32 bytes, got ${key.length}`);
}

/** base64(ciphertext ‖ 16-byte tag), as in resource.ciphertext. Key, nonce and AAD are UTF-8 strings. */
export function encryptResource(plaintext: string, apiV3Key: string, nonce: string, associatedData: string): string {
  const key = Buffer.from(apiV3Key, 'utf8');
  const cipher = createCipheriv(gcmName(key), key, Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([body, cipher.getAuthTag()]).toString('base64');
}

export function decryptResource(ciphertext: string, apiV3Key: string, nonce: string, associatedData: string): string {
  const key = Buffer.from(apiV3Key, 'utf8');
  const data = Buffer.from(ciphertext, 'base64');
  if (data.length < TAG_BYTES) throw new Error('ciphertext is shorter than the GCM tag');
  const decipher = createDecipheriv(gcmName(key), key, Buffer.from(nonce, 'utf8'));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]).toString('utf8');
}
