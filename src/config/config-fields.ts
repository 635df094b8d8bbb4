/** The allowed field names, a tree. schema.json must list exactly these (a test ties them). */
export type FieldTree = { readonly [name: string]: FieldTree | 'value' };

/** v3.platform and v3.platformCertificate take the same two fields. */
export const SIGNER_FIELDS = { privateKeyFile: 'value', serial: 'value' } as const;

export const CONFIG_FIELDS = {
  $schema: 'value',
  name: 'value',
  appid: 'value',
  mchid: 'value',
  v2: { notifyUrl: 'value', refundNotifyUrl: 'value', apiKey: 'value', signType: 'value' },
  v3: { notifyUrl: 'value', refundNotifyUrl: 'value', apiV3Key: 'value', platform: SIGNER_FIELDS, platformCertificate: SIGNER_FIELDS },
  partner: { spAppid: 'value', spMchid: 'value', subAppid: 'value', subMchid: 'value' },
  combine: { subMchids: 'value' },
  order: { outTradeNo: 'value', total: 'value', openid: 'value', transactionId: 'value', outRefundNo: 'value', refundId: 'value', refund: 'value' },
} as const satisfies FieldTree;

export const ORDER_DEFAULTS = {
  outTradeNo: 'T20260101000001',
  // Large enough for the coupon cases (a coupon and a cash part of at least 1 fen each).
  total: 100,
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  transactionId: '4200000000000000000000000001',
  refundId: '50000000000000000000000000001',
} as const;
