import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

/** The refund req_info key: lower-case hex MD5 of the APIv2 key, used as 32 ASCII bytes (AES-256). */
export function refundAesKey(apiKey: string): string {
  return createHash('md5').update(apiKey, 'utf8').digest('hex');
}

/** base64(AES-256-ECB, PKCS#7) of the inner <root> XML. */
export function encryptReqInfo(plainXml: string, apiKey: string): string {
  const cipher = createCipheriv('aes-256-ecb', Buffer.from(refundAesKey(apiKey), 'ascii'), null);
  return Buffer.concat([cipher.update(plainXml, 'utf8'), cipher.final()]).toString('base64');
}

export function decryptReqInfo(reqInfo: string, apiKey: string): string {
  const decipher = createDecipheriv('aes-256-ecb', Buffer.from(refundAesKey(apiKey), 'ascii'), null);
  return Buffer.concat([decipher.update(Buffer.from(reqInfo, 'base64')), decipher.final()]).toString('utf8');
}

/** Plain AES-ECB with PKCS#7 and a caller-given key (for the SDK test vector). */
export function aesEcbEncryptBase64(plaintext: string, key: string): string {
  const cipher = createCipheriv(`aes-${key.length * 8}-ecb`, Buffer.from(key, 'ascii'), null);
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}
