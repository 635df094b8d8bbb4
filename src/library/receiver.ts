/**
 * `wxpay-notify/receiver`: the reference merchant receiver — a correct WeChat Pay notify endpoint —
 * as a Node `http` handler / Express middleware (createNotifyHandler), a server (startReceiver),
 * and the verification steps it is built from. Its source ships in src/receiver/ to read and compare.
 */
import type { ResolvedConfig } from '../config/types.js';
import { receiverOptionsFromConfig as fromResolvedConfig } from '../receiver/from-config.js';
import type { ReceiverOptions } from '../receiver/types.js';
import { resolveConfig, type NotifyConfig } from './library-config.js';

export * from '../receiver/index.js';

/**
 * Options for a receiver that accepts what this config sends: its keys, its notify URLs' paths, and
 * the public halves of its simulated signers keyed by their serials.
 */
export function receiverOptionsFromConfig(config: NotifyConfig | ResolvedConfig): ReceiverOptions {
  return fromResolvedConfig(resolveConfig(config));
}
