import { createPublicKey } from 'node:crypto';
import type { ResolvedConfig } from '../config/types.js';
import type { ReceiverOptions } from './types.js';

const pathOf = (url: string): string => new URL(url).pathname;

/** The public half of a simulated WeChat Pay signer: what a merchant's config would trust. */
const publicPemOf = (privateKeyPem: string): string =>
  createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();

/**
 * Options for a reference receiver that accepts exactly what this config's collection sends: the
 * same keys, the notify URLs' paths, and the public keys of the configured (simulated) signers,
 * keyed by the serials they announce.
 */
export function receiverOptionsFromConfig(config: ResolvedConfig): ReceiverOptions {
  const opts: ReceiverOptions = {};
  if (config.v2) {
    opts.v2 = {
      apiKey: config.v2.apiKey,
      payPath: pathOf(config.v2.notifyUrl),
      refundPath: pathOf(config.v2.refundNotifyUrl),
    };
  }
  if (config.v3) {
    const signers = [config.v3.platform, config.v3.platformCertificate].filter((s) => s !== undefined);
    opts.v3 = {
      apiV3Key: config.v3.apiV3Key,
      publicKeys: Object.fromEntries(signers.map((s) => [s.serial, publicPemOf(s.privateKeyPem)])),
      payPath: pathOf(config.v3.notifyUrl),
      refundPath: pathOf(config.v3.refundNotifyUrl),
    };
  }
  return opts;
}
