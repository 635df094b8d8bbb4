import { createPublicKey, type KeyObject } from 'node:crypto';

/** Trusted WeChat Pay verification keys by Wechatpay-Serial. */
export type V3KeyRing = ReadonlyMap<string, KeyObject>;

const cache = new WeakMap<Readonly<Record<string, string>>, V3KeyRing>();

/**
 * Parses the configured PEMs once (public key or certificate; Node extracts the key from either).
 * Throws at start-up, naming the serial, rather than failing every notification later.
 */
export function keyRingFrom(publicKeys: Readonly<Record<string, string>>): V3KeyRing {
  const cached = cache.get(publicKeys);
  if (cached) return cached;
  const ring = new Map<string, KeyObject>();
  for (const [serial, pem] of Object.entries(publicKeys)) {
    try {
      ring.set(serial, createPublicKey(pem));
    } catch (error) {
      throw new Error(
        `v3.publicKeys[${JSON.stringify(serial)}] is not a PEM public key or certificate: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  cache.set(publicKeys, ring);
  return ring;
}
