import { createHash } from 'node:crypto';
import type { ResolvedConfig } from '../config/types.js';

/**
 * The payer's openid under the sub-merchant's appid: a different value from the order's openid
 * (which belongs to appid / sp_appid), as in real partner notifications, so a handler reading the
 * wrong one sees a stranger. 28 characters starting with "o", like a real openid.
 */
export function subOpenidFor(openid: string): string {
  return 'o' + createHash('sha1').update(`sub_openid:${openid}`).digest('base64url').slice(0, 27);
}

/** Names of the variables the templates and the sandbox scripts use. */
export interface VariableValue {
  key: string;
  value: string;
  secret?: boolean;
  description: string;
}

/** Order and merchant identity: collection variables, so a config change shows as a small diff. */
export function collectionVariables(config: ResolvedConfig): VariableValue[] {
  const o = config.order;
  // The four order numbers are bases: each case sends its own (case-order.ts); set one in the
  // environment to send that value from every case.
  const perCase = ' base: each case replaces the last 6 characters with its own code';
  const vars: VariableValue[] = [
    { key: 'appid', value: config.appid, description: 'appid (公众号/小程序/APP ID)' },
    { key: 'mchid', value: config.mchid, description: 'merchant id (商户号)' },
    { key: 'out_trade_no', value: o.outTradeNo, description: 'merchant order number (商户订单号)' + perCase },
    {
      key: 'transaction_id',
      value: o.transactionId,
      description: 'WeChat Pay order number (微信支付订单号)' + perCase,
    },
    { key: 'total', value: String(o.total), description: 'order amount in fen (订单金额, 分)' },
    { key: 'openid', value: o.openid, description: 'payer openid (用户标识)' },
    { key: 'out_refund_no', value: o.outRefundNo, description: 'merchant refund number (商户退款单号)' + perCase },
    { key: 'refund_id', value: o.refundId, description: 'WeChat Pay refund number (微信支付退款单号)' + perCase },
    { key: 'refund', value: String(o.refund), description: 'refund amount in fen (退款金额, 分)' },
  ];
  if (config.partner) {
    const p = config.partner;
    vars.push(
      { key: 'sp_appid', value: p.spAppid, description: 'service provider appid (服务商应用ID)' },
      { key: 'sp_mchid', value: p.spMchid, description: 'service provider merchant id (服务商户号)' },
      { key: 'sub_appid', value: p.subAppid ?? '', description: 'sub-merchant appid (子商户应用ID), optional' },
      { key: 'sub_mchid', value: p.subMchid, description: 'sub-merchant id (子商户号)' },
      {
        key: 'sub_openid',
        value: subOpenidFor(o.openid),
        description:
          'payer openid under sub_appid (子商户用户标识): another value than openid, which belongs to sp_appid',
      },
    );
  }
  if (config.combine) {
    const own = config.partner?.subMchid ?? config.mchid;
    const [first, second] = config.combine.subMchids ?? [own, own];
    vars.push(
      {
        key: 'combine_sub_mchid_1',
        value: first,
        description: 'merchant of the first sub-order (子单商户号; partner: sub_mchid)',
      },
      {
        key: 'combine_sub_mchid_2',
        value: second,
        description: 'merchant of the second sub-order (子单商户号; partner: sub_mchid)',
      },
    );
  }
  return vars;
}

/** The environment variables that hold secrets (the test script masks their values in its messages). */
export const SECRET_VARIABLES = [
  'v2_api_key',
  'v3_api_key',
  'v3_platform_private_key',
  'v3_certificate_private_key',
] as const;

/** Where to send and with which keys: the environment, so secrets never enter the collection. */
export function environmentVariables(config: ResolvedConfig, withSecrets: boolean): VariableValue[] {
  const secret = (value: string): string => (withSecrets ? value : '');
  const vars: VariableValue[] = [];
  if (config.v2) {
    vars.push(
      { key: 'v2_notify_url', value: config.v2.notifyUrl, description: 'v2 payment notify_url (支付结果通知地址)' },
      {
        key: 'v2_refund_notify_url',
        value: config.v2.refundNotifyUrl,
        description: 'v2 refund notify_url (退款结果通知地址)',
      },
      {
        key: 'v2_api_key',
        value: secret(config.v2.apiKey),
        secret: true,
        description: 'APIv2 key (APIv2密钥), test value',
      },
    );
  }
  if (config.v3) {
    vars.push(
      { key: 'v3_notify_url', value: config.v3.notifyUrl, description: 'v3 payment notify_url (支付成功通知地址)' },
      {
        key: 'v3_refund_notify_url',
        value: config.v3.refundNotifyUrl,
        description: 'v3 refund notify_url (退款结果通知地址)',
      },
      {
        key: 'v3_api_key',
        value: secret(config.v3.apiV3Key),
        secret: true,
        description: 'APIv3 key (APIv3密钥), test value',
      },
    );
    if (config.v3.platform) {
      vars.push(
        {
          key: 'v3_platform_serial',
          value: config.v3.platform.serial,
          description: 'Wechatpay-Serial of the test WeChat Pay public key (微信支付公钥ID)',
        },
        {
          key: 'v3_platform_private_key',
          value: secret(config.v3.platform.privateKeyPem),
          secret: true,
          description: 'private key of the test WeChat Pay public key (PEM)',
        },
      );
    }
    if (config.v3.platformCertificate) {
      vars.push(
        {
          key: 'v3_certificate_serial',
          value: config.v3.platformCertificate.serial,
          description: 'Wechatpay-Serial of the test platform certificate (平台证书序列号)',
        },
        {
          key: 'v3_certificate_private_key',
          value: secret(config.v3.platformCertificate.privateKeyPem),
          secret: true,
          description: 'private key of the test platform certificate (PEM)',
        },
      );
    }
  }
  return vars;
}

/** The secret values a config holds: what must never appear in a collection, output or report. */
export function secretValues(config: ResolvedConfig): string[] {
  return environmentVariables(config, true)
    .filter((v) => v.secret && v.value !== '')
    .map((v) => v.value);
}
