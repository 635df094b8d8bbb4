import type { CaseDefinition } from './types.js';

/**
 * The case catalogue: every notification the suite can send, as data. The collection builder,
 * the runner, the report and the README case table all read this list.
 */
const V2_REFUND_HINT =
  'Refund notify not acknowledged: it has no sign; decrypt req_info with AES-256-ECB, key = lower-case hex md5(APIv2 key) (req_info 解密), inner root <root>.';

const V3_GENUINE_HINT =
  'Rejected a genuine v3 notify: verify over the raw body bytes, pick the key by Wechatpay-Serial, decrypt with the APIv3 key (APIv3密钥) and AAD = resource.associated_data.';

export const CATALOGUE: readonly CaseDefinition[] = [
  // ── v2 payment (支付结果通知) ──────────────────────────────────────────────
  {
    id: 'v2.pay.success',
    title: 'Payment success, signed with the configured sign type (支付成功通知)',
    version: 'v2', kind: 'pay', folder: 'v2 payment (支付结果通知)', template: 'v2/pay-success.xml', target: 'notifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v2'], signType: 'config', signTypeField: 'config',
    hint: 'Rejected a genuine v2 payment notify: parse the body as XML, verify sign with the APIv2 key (APIv2密钥), answer <xml><return_code>SUCCESS</return_code></xml>.',
  },
  {
    id: 'v2.pay.hmac-without-sign-type',
    title: 'Payment success, HMAC-SHA256 signed without sign_type (real-world quirk)',
    version: 'v2', kind: 'pay', folder: 'v2 payment (支付结果通知)', template: 'v2/pay-success.xml', target: 'notifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v2-hmac'], signType: 'HMAC-SHA256', signTypeField: false,
    hint: 'Rejected an HMAC-SHA256 notify that has no sign_type: the verifier falls back to MD5. WeChat often omits sign_type; infer it from the sign length (32 hex = MD5, 64 = HMAC-SHA256).',
  },
  {
    id: 'v2.pay.extra-fields',
    title: 'Payment success with coupons and an unknown field (代金券, 扩展字段)',
    version: 'v2', kind: 'pay', folder: 'v2 payment (支付结果通知)', template: 'v2/pay-extra-fields.xml', target: 'notifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v2'], signType: 'config', signTypeField: 'config',
    hint: 'Rejected a notify with coupon fields and a field it does not know: sign over every field received, not a fixed list (微信可能增加字段).',
  },
  // ── v2 refund (退款结果通知) ────────────────────────────────────────────────
  {
    id: 'v2.refund.success',
    title: 'Refund succeeded, encrypted req_info (退款成功)',
    version: 'v2', kind: 'refund', folder: 'v2 refund (退款结果通知)', template: 'v2/refund-success.xml', target: 'refundNotifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v2'], hint: V2_REFUND_HINT,
  },
  {
    id: 'v2.refund.change',
    title: 'Refund abnormal, refund_status CHANGE (退款异常)',
    version: 'v2', kind: 'refund', folder: 'v2 refund (退款结果通知)', template: 'v2/refund-change.xml', target: 'refundNotifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v2'], hint: V2_REFUND_HINT,
  },
  {
    id: 'v2.refund.closed',
    title: 'Refund closed, refund_status REFUNDCLOSE (退款关闭)',
    version: 'v2', kind: 'refund', folder: 'v2 refund (退款结果通知)', template: 'v2/refund-closed.xml', target: 'refundNotifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v2'], hint: V2_REFUND_HINT,
  },
  // ── v3 payment (支付成功通知) ───────────────────────────────────────────────
  {
    id: 'v3.pay.success',
    title: 'TRANSACTION.SUCCESS, payment succeeded (支付成功通知)',
    version: 'v3', kind: 'pay', folder: 'v3 payment (支付成功通知)', template: 'v3/transaction-success.json', target: 'notifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v3'], event: 'TRANSACTION.SUCCESS', signer: 'platform', hint: V3_GENUINE_HINT,
  },
  // ── v3 refund (退款结果通知) ────────────────────────────────────────────────
  {
    id: 'v3.refund.success',
    title: 'REFUND.SUCCESS, refund succeeded (退款成功)',
    version: 'v3', kind: 'refund', folder: 'v3 refund (退款结果通知)', template: 'v3/refund-success.json', target: 'refundNotifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v3'], event: 'REFUND.SUCCESS', signer: 'platform', hint: V3_GENUINE_HINT,
  },
  {
    id: 'v3.refund.abnormal',
    title: 'REFUND.ABNORMAL, refund to the card failed (退款异常)',
    version: 'v3', kind: 'refund', folder: 'v3 refund (退款结果通知)', template: 'v3/refund-abnormal.json', target: 'refundNotifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v3'], event: 'REFUND.ABNORMAL', signer: 'platform', hint: V3_GENUINE_HINT,
  },
  {
    id: 'v3.refund.closed',
    title: 'REFUND.CLOSED, refund closed (退款关闭)',
    version: 'v3', kind: 'refund', folder: 'v3 refund (退款结果通知)', template: 'v3/refund-closed.json', target: 'refundNotifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v3'], event: 'REFUND.CLOSED', signer: 'platform', hint: V3_GENUINE_HINT,
  },
  {
    id: 'v3.refund.manual-xml',
    title: 'Refund made by hand in 商户平台, notified in v2 XML to the v3 refund URL (手动退款)',
    version: 'v2', kind: 'refund', folder: 'v3 refund (退款结果通知)', template: 'v2/refund-success.xml', target: 'refundNotifyUrl', sendTo: 'v3',
    expect: 'ack', severity: 'advisory', requires: ['v2', 'v3'],
    hint: 'Refunds made by hand in the merchant platform (商户平台手动退款) are reported to v3 merchants too, in the v2 XML format with req_info under md5(APIv2 key): recognise XML on the refund URL and acknowledge it the v2 way (not yet officially confirmed).',
  },
  // ── v3 key modes (平台证书 / 微信支付公钥) ───────────────────────────────────
  {
    id: 'v3.keys.public-key',
    title: 'Signed with the WeChat Pay public key, serial PUB_KEY_ID_… (微信支付公钥)',
    version: 'v3', kind: 'pay', folder: 'v3 key modes (验签密钥)', template: 'v3/transaction-success.json', target: 'notifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v3-two-signers'], event: 'TRANSACTION.SUCCESS', signer: 'platform',
    hint: 'Rejected a notify signed with the WeChat Pay public key: look the key up by Wechatpay-Serial (PUB_KEY_ID_… → public key), do not assume one key.',
  },
  {
    id: 'v3.keys.certificate',
    title: 'Signed with the platform certificate, hex serial (平台证书)',
    version: 'v3', kind: 'pay', folder: 'v3 key modes (验签密钥)', template: 'v3/transaction-success.json', target: 'notifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v3-two-signers'], event: 'TRANSACTION.SUCCESS', signer: 'certificate',
    hint: 'Rejected a notify signed with the platform certificate: look the key up by Wechatpay-Serial (certificate serial → certificate), do not assume one key.',
  },
  {
    id: 'v3.keys.migration',
    title: 'Several deliveries signed at random by either key, as during the switch-over (公钥切换)',
    version: 'v3', kind: 'pay', folder: 'v3 key modes (验签密钥)', template: 'v3/transaction-success.json', target: 'notifyUrl',
    expect: 'ack', severity: 'protocol', requires: ['v3-two-signers'], event: 'TRANSACTION.SUCCESS', signer: 'random', copies: 4,
    hint: 'Rejected some deliveries during the key switch-over (平台证书→微信支付公钥): WeChat moves callbacks gradually, so trust both keys and choose by Wechatpay-Serial.',
  },
];
