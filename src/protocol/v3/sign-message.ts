import { createSign, createVerify, type KeyLike } from 'node:crypto';

/** The v3 signed message: three lines, each ending in \n, the body byte for byte as sent. */
export function v3SignMessage(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

/** SHA256withRSA, PKCS#1 v1.5, base64. Deterministic, so the sandbox signer must match it exactly. */
export function signV3(message: string, privateKey: KeyLike): string {
  return createSign('RSA-SHA256').update(message, 'utf8').sign(privateKey, 'base64');
}

export function verifyV3(message: string, signature: string, publicKey: KeyLike): boolean {
  try {
    return createVerify('RSA-SHA256').update(message, 'utf8').verify(publicKey, signature, 'base64');
  } catch {
    return false;
  }
}
