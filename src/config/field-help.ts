/** Where merchants find their API keys; messages point there when a key looks mistyped. */
export const KEY_SOURCE = '商户平台 > 账户中心 > API安全';
const SIGNER_KEY = "the PEM file with the simulated WeChat Pay signer's RSA private key, relative to this config file";
/** What a required field must hold, for "is required" and "must not be empty". */
export const WHAT: Readonly<Record<string, string>> = {
  name: 'a collection name such as "acme-shop"; it names the output files',
  appid: 'the AppID (公众号/小程序/应用 AppID) the payments belong to, e.g. "wx2421b1c4370ec43b"',
  mchid: 'your merchant ID (商户号), e.g. "1900000109"',
  'v2.notifyUrl': 'the URL WeChat Pay posts payment results to (支付结果通知 notify_url)',
  'v2.refundNotifyUrl': 'the URL WeChat Pay posts refund results to (退款结果通知 notify_url)',
  'v2.apiKey': `the APIv2 key (APIv2密钥) from ${KEY_SOURCE}; write "\${WXPAY_V2_API_KEY}" to read it from the environment`,
  'v3.notifyUrl': 'the URL WeChat Pay posts payment results to (支付结果通知 notify_url)',
  'v3.refundNotifyUrl': 'the URL WeChat Pay posts refund results to (退款结果通知 notify_url)',
  'v3.apiV3Key': `the APIv3 key (APIv3密钥) from ${KEY_SOURCE}; write "\${WXPAY_V3_API_KEY}" to read it from the environment`,
  'v3.platform': 'the simulated WeChat Pay public-key signer (微信支付公钥): { "privateKeyFile": …, "serial": "PUB_KEY_ID_…" }; set it, v3.platformCertificate, or both; `wxpay-notify init --key-mode` creates them',
  'v3.platform.privateKeyFile': SIGNER_KEY,
  'v3.platform.serial': 'the WeChat Pay public-key ID (微信支付公钥ID) your test set-up trusts, e.g. "PUB_KEY_ID_0100…"',
  'v3.platformCertificate.privateKeyFile': SIGNER_KEY,
  'v3.platformCertificate.serial': 'the platform certificate serial number (平台证书序列号) in hex',
  'partner.spAppid': 'the service provider AppID (服务商 sp_appid)',
  'partner.spMchid': 'the service provider merchant ID (服务商商户号 sp_mchid)',
  'partner.subMchid': 'the sub-merchant ID (子商户号 sub_mchid)',
};
/** How messages name the secret fields: by what they are, never by their value. */
export const SECRET_LABEL: Readonly<Record<string, string>> = { 'v2.apiKey': 'APIv2 key (APIv2密钥)', 'v3.apiV3Key': 'APIv3 key (APIv3密钥)' };
