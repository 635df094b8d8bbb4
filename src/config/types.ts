import type { CONFIG } from './contract.js';
import type { Resolved, Written } from './spec.js';

/**
 * The types of a validated config, derived from the contract (contract.ts): a field is optional
 * here exactly when the contract neither requires it nor gives it a default. What each field holds
 * is described there.
 */
type ValidatedFields = Resolved<typeof CONFIG>;

/**
 * A simulated WeChat Pay signer: the private key WeChat would hold, and the serial it announces
 * (`PUB_KEY_ID_…` for the public-key mode, upper-case hex for a certificate). After loadConfig,
 * privateKeyFile is absolute and privateKeyPem holds its PEM text: secret, never printed, never
 * written to a collection.
 */
export type PlatformSigner = NonNullable<V3Config['platform']>;
/** APIv2: the notify URLs, the APIv2 key (secret) and the sign type. */
export type V2Config = NonNullable<ValidatedFields['v2']>;
/** APIv3: the notify URLs, the APIv3 key (secret) and at least one of the two signers. */
export type V3Config = NonNullable<ValidatedFields['v3']>;
export type PartnerConfig = NonNullable<ValidatedFields['partner']>;
/** Opt-in: a combined payment (合单支付) notification. */
export type CombineConfig = NonNullable<ValidatedFields['combine']>;
/** Every field filled in (defaults applied); amounts in fen (分). */
export type OrderConfig = ValidatedFields['order'];

/** A config as a user writes it (the fields of wxpay-notify.json), before defaults: the library's input. */
export type WrittenConfig = Written<typeof CONFIG>;

/** A loaded, validated config with ${ENV} values and key files resolved. */
export type ResolvedConfig = ValidatedFields & {
  /** Folder of the config file; relative paths in the file resolve against it. */
  configDir: string;
};
