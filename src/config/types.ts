import type { V2SignType } from '../protocol/constants.js';

/** A simulated WeChat Pay signer: the private key WeChat would hold, and the serial it announces. */
export interface PlatformSigner {
  /** Absolute path of the PEM file (PKCS#8 or PKCS#1 RSA private key, ≥ 2048 bits). */
  privateKeyFile: string;
  /** PEM text read from privateKeyFile. Secret: never printed, never written to a collection. */
  privateKeyPem: string;
  /** Wechatpay-Serial: `PUB_KEY_ID_…` for the public-key mode, upper-case hex for a certificate. */
  serial: string;
}

export interface V2Config {
  notifyUrl: string;
  refundNotifyUrl: string;
  /** APIv2 key (APIv2密钥), 32 characters. Secret. */
  apiKey: string;
  signType: V2SignType;
}

export interface V3Config {
  notifyUrl: string;
  refundNotifyUrl: string;
  /** APIv3 key (APIv3密钥), 32 characters. Secret. */
  apiV3Key: string;
  /**
   * The WeChat Pay public-key signer (微信支付公钥), serial `PUB_KEY_ID_…`. At least one of the two
   * signers is set: public key only (newer merchants), certificate only (older ones), or both (the
   * switch-over, when the key-mode cases run).
   */
  platform?: PlatformSigner;
  /** The platform certificate signer (平台证书), hex certificate serial. */
  platformCertificate?: PlatformSigner;
}

export interface PartnerConfig {
  spAppid: string;
  spMchid: string;
  subAppid?: string;
  subMchid: string;
}

/** Opt-in: a combined payment (合单支付) notification. */
export interface CombineConfig {
  /**
   * Merchant IDs of the two sub-orders (子单): `mchid` of each sub-order for a direct merchant,
   * `sub_mchid` in partner mode. Default: the config's own merchant (partner: `partner.subMchid`).
   */
  subMchids?: [string, string];
}

export interface OrderConfig {
  outTradeNo: string;
  /** Amount in fen (分), a positive integer. */
  total: number;
  openid: string;
  transactionId: string;
  outRefundNo: string;
  refundId: string;
  /** Refund amount in fen; defaults to the order total. */
  refund: number;
}

/** A loaded, validated config with ${ENV} values and key files resolved. */
export interface ResolvedConfig {
  name: string;
  appid: string;
  mchid: string;
  v2?: V2Config;
  v3?: V3Config;
  partner?: PartnerConfig;
  combine?: CombineConfig;
  order: OrderConfig;
  /** Folder of the config file; relative paths in the file resolve against it. */
  configDir: string;
}
