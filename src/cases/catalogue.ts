import type { CaseDefinition } from './types.js';

/**
 * The case catalogue: every notification the suite can send, as data. The collection builder,
 * the runner, the report and the case table of docs/cases.md all read this list.
 *
 * Cases are listed by Postman folder: the fields a folder's cases share are written once, as the
 * folder's defaults, and each case states only its own (a case's field wins over its folder's).
 */
const V2_REFUND_HINT =
  'Refund notify not acknowledged: it has no sign; decrypt req_info with AES-256-ECB, key = lower-case hex md5(APIv2 key) (req_info 解密), inner root <root>.';

const V3_GENUINE_HINT =
  'Rejected a genuine v3 notify: verify over the raw body bytes, pick the key by Wechatpay-Serial, decrypt with the APIv3 key (APIv3密钥) and AAD = resource.associated_data.';

/** Fields a folder's cases can share (never a case's identity). */
type Shared = Partial<Omit<CaseDefinition, 'id' | 'title' | 'folder'>>;
/** One case of a folder: what the folder does not give it, and anything it overrides. */
type Entry<S extends Shared> = Omit<CaseDefinition, 'folder' | keyof S> & Partial<CaseDefinition>;

/**
 * The cases of one Postman folder, each with the folder's name and defaults (copied, never shared
 * between cases). A case that sets a default to `undefined` goes without it.
 */
function folder<S extends Shared>(name: string, shared: S, cases: readonly Entry<S>[]): CaseDefinition[] {
  return cases.map(
    (c) =>
      Object.fromEntries(
        Object.entries({ folder: name, ...structuredClone(shared), ...c }).filter(([, value]) => value !== undefined),
      ) as unknown as CaseDefinition,
  );
}

const V2_PAY = {
  version: 'v2',
  kind: 'pay',
  template: 'v2/pay-success.xml',
  target: 'notifyUrl',
  expect: 'ack',
  severity: 'protocol',
  requires: ['v2'],
  signType: 'config',
  signTypeField: 'config',
} satisfies Shared;
const V3_PAY = {
  version: 'v3',
  kind: 'pay',
  template: 'v3/transaction-success.json',
  target: 'notifyUrl',
  expect: 'ack',
  severity: 'protocol',
  requires: ['v3'],
  event: 'TRANSACTION.SUCCESS',
  signer: 'platform',
} satisfies Shared;

export const CATALOGUE: readonly CaseDefinition[] = [
  // ── v2 payment (支付结果通知) ──────────────────────────────────────────────
  ...folder('v2 payment (支付结果通知)', V2_PAY, [
    {
      id: 'v2.pay.success',
      title: 'Payment success, signed with the configured sign type (支付成功通知)',
      hint: 'Rejected a genuine v2 payment notify: parse the body as XML, verify sign with the APIv2 key (APIv2密钥), answer <xml><return_code>SUCCESS</return_code></xml>.',
    },
    {
      id: 'v2.pay.hmac-without-sign-type',
      title: 'Payment success, HMAC-SHA256 signed without sign_type (real-world quirk)',
      requires: ['v2-hmac'],
      signType: 'HMAC-SHA256',
      signTypeField: false,
      control: 'v2.pay.success',
      hint: 'Rejected an HMAC-SHA256 notify that has no sign_type: the verifier falls back to MD5. WeChat often omits sign_type; infer it from the sign length (32 hex = MD5, 64 = HMAC-SHA256).',
    },
    {
      id: 'v2.pay.hmac-with-sign-type',
      title: 'Payment success, HMAC-SHA256 signed with an explicit sign_type=HMAC-SHA256 (签名类型)',
      requires: ['v2-hmac'],
      signType: 'HMAC-SHA256',
      signTypeField: true,
      control: 'v2.pay.success',
      hint: 'Rejected an HMAC-SHA256 notify that carries sign_type=HMAC-SHA256: sign_type is signed like every other field (drop only sign); the captured HMAC notifications omit it, but the documented shape has it.',
      caveat:
        'The captured HMAC-SHA256 notifications (WxJava issues 1585 and 1671) carry no sign_type; this is the documented shape (sign_type in the field table of the payment notification), kept so a handler that mishandles the field is caught.',
    },
    {
      id: 'v2.pay.extra-fields',
      title: 'Payment success, part paid with a coupon, and an unknown field (代金券, 扩展字段)',
      template: 'v2/pay-extra-fields.xml',
      coupon: true,
      control: 'v2.pay.success',
      hint: 'Rejected a notify with coupon fields and a field it does not know: sign over every field received, not a fixed list (微信可能增加字段); cash_fee is total_fee minus coupon_fee, so compare your order with total_fee.',
    },
    {
      id: 'v2.pay.sign-type-md5',
      title: 'Payment success, MD5-signed with an explicit sign_type=MD5 (签名类型)',
      signType: 'MD5',
      signTypeField: true,
      control: 'v2.pay.success',
      hint: 'Rejected an MD5 notify that carries sign_type=MD5: sign_type is signed like every other field (drop only sign), and MD5 must verify even when your orders use HMAC-SHA256.',
    },
    {
      id: 'v2.pay.result-fail',
      title: 'Payment failed: return_code SUCCESS, result_code FAIL (支付失败)',
      template: 'v2/pay-result-fail.xml',
      severity: 'advisory',
      control: 'v2.pay.success',
      hint: 'Answered FAIL to a notify of a failed payment (result_code FAIL): return_code SUCCESS means the message itself is fine; acknowledge it with SUCCESS and do not mark the order paid, or WeChat keeps re-sending it.',
      caveat:
        'WeChat documents result_code FAIL with err_code/err_code_des in the payment notification (WxJava WxPayOrderNotifyResult), but wechatpay.js.org says ordinary payments are notified only on success; no captured result_code=FAIL notification was found, so this case is advisory.',
    },
  ]),
  // ── v2 refund (退款结果通知) ────────────────────────────────────────────────
  ...folder(
    'v2 refund (退款结果通知)',
    {
      version: 'v2',
      kind: 'refund',
      target: 'refundNotifyUrl',
      expect: 'ack',
      severity: 'protocol',
      requires: ['v2'],
      hint: V2_REFUND_HINT,
    },
    [
      {
        id: 'v2.refund.success',
        title: 'Refund succeeded, encrypted req_info (退款成功)',
        template: 'v2/refund-success.xml',
      },
      {
        id: 'v2.refund.change',
        title: 'Refund abnormal, refund_status CHANGE (退款异常)',
        template: 'v2/refund-change.xml',
      },
      {
        id: 'v2.refund.closed',
        title: 'Refund closed, refund_status REFUNDCLOSE (退款关闭)',
        template: 'v2/refund-closed.xml',
      },
      {
        id: 'v2.refund.block-aligned',
        title: 'Refund succeeded, req_info plaintext a whole number of AES blocks (PKCS#7 full padding block)',
        template: 'v2/refund-success.xml',
        mutate: { alignPlaintext: true },
        control: 'v2.refund.success',
        hint: 'Could not read a req_info whose plaintext fills whole 16-byte blocks: PKCS#7 then adds a full block of padding (16 bytes of 0x10); remove it like any other padding (use a standard PKCS#7 unpad).',
      },
    ],
  ),
  // ── v3 payment (支付成功通知) ───────────────────────────────────────────────
  ...folder('v3 payment (支付成功通知)', V3_PAY, [
    { id: 'v3.pay.success', title: 'TRANSACTION.SUCCESS, payment succeeded (支付成功通知)', hint: V3_GENUINE_HINT },
    {
      id: 'v3.pay.promotion',
      title: 'TRANSACTION.SUCCESS paid partly with a coupon: promotion_detail, payer_total below total (代金券)',
      template: 'v3/transaction-promotion.json',
      coupon: true,
      control: 'v3.pay.success',
      hint: 'Rejected a payment made partly with a coupon: amount.total is the order amount and amount.payer_total what the payer paid (total minus promotion_detail[].amount); compare your order with amount.total, not payer_total.',
    },
    {
      id: 'v3.pay.combine',
      title: 'TRANSACTION.SUCCESS of a combined payment: combine_* fields and sub_orders[] (合单支付)',
      template: 'v3/transaction-combine.json',
      requires: ['v3', 'combine'],
      control: 'v3.pay.success',
      hint: 'Rejected a combined-payment notify (合单支付): it carries combine_appid, combine_mchid, combine_out_trade_no and sub_orders[] (amounts as total_amount/payer_amount) instead of out_trade_no and amount; recognise it by combine_out_trade_no and settle each sub-order.',
    },
  ]),
  // ── v3 refund (退款结果通知) ────────────────────────────────────────────────
  ...folder(
    'v3 refund (退款结果通知)',
    {
      version: 'v3',
      kind: 'refund',
      target: 'refundNotifyUrl',
      expect: 'ack',
      severity: 'protocol',
      requires: ['v3'],
      signer: 'platform',
      hint: V3_GENUINE_HINT,
    },
    [
      {
        id: 'v3.refund.success',
        title: 'REFUND.SUCCESS, refund succeeded (退款成功)',
        template: 'v3/refund-success.json',
        event: 'REFUND.SUCCESS',
      },
      {
        id: 'v3.refund.abnormal',
        title: 'REFUND.ABNORMAL, refund to the card failed (退款异常)',
        template: 'v3/refund-abnormal.json',
        event: 'REFUND.ABNORMAL',
        caveat:
          'WeChat documents the REFUND.ABNORMAL event and its fields, but no summary for it: 退款异常 is our reading of the event, not a documented or captured value (a handler should not depend on summary).',
      },
      {
        id: 'v3.refund.closed',
        title: 'REFUND.CLOSED, refund closed (退款关闭)',
        template: 'v3/refund-closed.json',
        event: 'REFUND.CLOSED',
        caveat:
          'WeChat documents the REFUND.CLOSED event and its fields, but no summary for it: 退款关闭 is our reading of the event, not a documented or captured value (a handler should not depend on summary).',
      },
      {
        id: 'v3.refund.manual-xml',
        title: 'Refund made by hand in 商户平台, notified in v2 XML to the v3 refund URL (手动退款)',
        version: 'v2',
        template: 'v2/refund-success.xml',
        sendTo: 'v3',
        severity: 'advisory',
        requires: ['v2', 'v3'],
        signer: undefined,
        hint: 'Refunds made by hand in the merchant platform (商户平台手动退款) are reported to v3 merchants too, in the v2 XML format with req_info under md5(APIv2 key): recognise XML on the refund URL and acknowledge it the v2 way (not yet officially confirmed).',
        caveat:
          'Rests on one user report (ArtisanCloud/PowerWeChat issue 649, 2025: refunds made in 商户平台 reached a v3 handler as XML) and on v2 refunds carrying refund_request_source VENDOR_PLATFORM; WeChat has not documented it, which is why the case is advisory.',
      },
    ],
  ),
  // ── v3 key modes (平台证书 / 微信支付公钥) ───────────────────────────────────
  ...folder('v3 key modes (验签密钥)', { ...V3_PAY, requires: ['v3-two-signers'], control: 'v3.pay.success' }, [
    {
      id: 'v3.keys.public-key',
      title: 'Signed with the WeChat Pay public key, serial PUB_KEY_ID_… (微信支付公钥)',
      hint: 'Rejected a notify signed with the WeChat Pay public key: look the key up by Wechatpay-Serial (PUB_KEY_ID_… → public key), do not assume one key.',
    },
    {
      id: 'v3.keys.certificate',
      title: 'Signed with the platform certificate, hex serial (平台证书)',
      signer: 'certificate',
      hint: 'Rejected a notify signed with the platform certificate: look the key up by Wechatpay-Serial (certificate serial → certificate), do not assume one key.',
    },
    {
      id: 'v3.keys.migration',
      title: 'Several deliveries signed at random by either key, as during the switch-over (公钥切换)',
      signer: 'random',
      copies: 4,
      hint: 'Rejected some deliveries during the key switch-over (平台证书→微信支付公钥): WeChat moves callbacks gradually, so trust both keys and choose by Wechatpay-Serial.',
    },
  ]),
  // ── forged v3: a correct merchant rejects these (伪造通知) ────────────────────
  ...folder(
    'forged v3: must reject (伪造通知)',
    { ...V3_PAY, expect: 'reject', severity: 'security', control: 'v3.pay.success' },
    [
      {
        id: 'v3.forged.bad-signature',
        title: 'Wrong Wechatpay-Signature (签名错误)',
        mutate: { signature: 'bad' },
        hint: 'Acknowledged a notify whose Wechatpay-Signature is wrong: Wechatpay-Signature is not verified, so anyone can post a fake payment. Verify SHA256withRSA over "timestamp\\nnonce\\nbody\\n".',
      },
      {
        id: 'v3.forged.signtest-probe',
        title: 'WeChat signature probe, WECHATPAY/SIGNTEST/… (签名探测流量)',
        mutate: { signature: 'signtest' },
        hint: 'Acknowledged a WECHATPAY/SIGNTEST/ probe: WeChat sends these to check merchants verify signatures. Do not special-case them; verify, and answer 4xx/5xx when verification fails.',
      },
      {
        id: 'v3.forged.tampered-body',
        title: 'Body changed after signing (报文被篡改)',
        mutate: { tamperBody: true },
        hint: 'Acknowledged a body that was changed after signing: the signature is not checked against the raw body as received.',
      },
      {
        id: 'v3.forged.stale-timestamp',
        title: 'Correctly signed, Wechatpay-Timestamp 6 minutes old (重放)',
        mutate: { timestampOffset: -360 },
        severity: 'advisory',
        hint: 'Acknowledged a notify whose Wechatpay-Timestamp is 6 minutes old: reject timestamps more than 5 minutes off (防重放); WeChat re-signs every retry with a fresh timestamp.',
      },
      {
        id: 'v3.forged.future-timestamp',
        title: 'Correctly signed, Wechatpay-Timestamp 6 minutes ahead',
        mutate: { timestampOffset: 360 },
        severity: 'advisory',
        hint: 'Acknowledged a notify stamped 6 minutes in the future: reject timestamps more than 5 minutes off either way (and check the server clock).',
      },
      {
        id: 'v3.forged.unknown-serial',
        title: 'Wechatpay-Serial the merchant has never seen (未知证书序列号)',
        mutate: { serial: 'unknown' },
        hint: 'Acknowledged a notify announcing an unknown Wechatpay-Serial: look the verifying key up by serial and reject serials you do not hold.',
      },
      {
        id: 'v3.forged.missing-headers',
        title: 'No Wechatpay-* signature headers at all (缺少签名头)',
        mutate: {
          dropHeaders: [
            'Wechatpay-Signature',
            'Wechatpay-Serial',
            'Wechatpay-Timestamp',
            'Wechatpay-Nonce',
            'Wechatpay-Signature-Type',
          ],
        },
        hint: 'Acknowledged a notify with no signature headers: the handler never looks at Wechatpay-Signature; require and verify it.',
      },
      {
        id: 'v3.forged.wrong-apiv3-key',
        title: 'Validly signed, resource encrypted under another APIv3 key',
        mutate: { apiV3Key: 'other' },
        hint: 'Acknowledged a resource it cannot have decrypted: decrypt resource.ciphertext with the APIv3 key (APIv3密钥) before answering, and answer 4xx/5xx when decryption fails.',
      },
    ],
  ),
  // ── forged v2 ───────────────────────────────────────────────────────────────
  ...folder(
    'forged v2: must reject (伪造通知)',
    { ...V2_PAY, expect: 'reject', severity: 'security', control: 'v2.pay.success' },
    [
      {
        id: 'v2.forged.bad-sign',
        title: 'Wrong sign (签名错误)',
        mutate: { sign: 'bad' },
        hint: 'Acknowledged a v2 notify with a wrong sign: verify sign (MD5/HMAC-SHA256 with the APIv2 key) before answering SUCCESS.',
      },
      {
        id: 'v2.forged.tampered-amount',
        title: 'total_fee and cash_fee raised after signing (金额被篡改)',
        mutate: { tamperFields: ['total_fee', 'cash_fee'] },
        hint: 'Acknowledged a notify whose amount was changed after signing: the sign is not verified over every field (or not at all), so a 1-fen payment could be reported as more.',
      },
      {
        id: 'v2.forged.missing-sign',
        title: 'No sign field (缺少签名)',
        mutate: { dropSign: true },
        hint: 'Acknowledged a v2 notify without sign: require the sign field and verify it.',
      },
      {
        id: 'v2.forged.refund-wrong-key',
        title: 'Refund req_info encrypted under another key',
        kind: 'refund',
        template: 'v2/refund-success.xml',
        target: 'refundNotifyUrl',
        mutate: { reqInfoKey: 'other' },
        control: 'v2.refund.success',
        hint: 'Acknowledged a refund notify whose req_info does not decrypt with md5(APIv2 key): decrypting req_info is the only proof it came from WeChat; answer FAIL when it fails.',
      },
    ],
  ),
  // ── robustness: a correct merchant acknowledges these (健壮性) ───────────────
  ...folder('robustness (健壮性)', { ...V3_PAY, control: 'v3.pay.success' }, [
    {
      id: 'v3.robust.non-ascii',
      title: 'Chinese and emoji in summary and attach (中文与表情)',
      template: 'v3/transaction-non-ascii.json',
      summary: '支付成功 🎉',
      hint: 'Rejected a notify with non-ASCII text: verify the signature over the raw body bytes as received (UTF-8), not over a re-decoded or re-serialised string.',
    },
    {
      id: 'v3.robust.key-order',
      title: 'Other key order and extra whitespace in the body (签名覆盖原始报文)',
      mutate: { layout: 'spaced' },
      hint: 'Rejected a notify whose JSON has another key order and whitespace: the signature covers the raw body; verify before parsing, never over JSON.stringify(parsed).',
    },
    {
      id: 'v3.robust.spaced-separators',
      title: 'Body with ", " and ": " separators and \\u-escaped text, as other JSON writers produce',
      mutate: { layout: 'python' },
      diagnostic: 'reserialised-body',
      hint: 'Rejected a notify written with a space after every "," and ":": the signature covers the raw body whatever its layout; verify the bytes as received, never a re-serialised copy (json.dumps / JSON.stringify of the parsed body).',
    },
  ]),
  ...folder('robustness (健壮性)', { ...V2_PAY, control: 'v2.pay.success' }, [
    {
      id: 'v2.robust.edge-whitespace',
      title: 'A space at the start and end of attach (首尾空格)',
      template: 'v2/pay-edge-whitespace.xml',
      hint: 'Rejected a v2 notify whose attach starts and ends with a space: the sign covers each value exactly as received; do not trim values before verifying (e.g. xml2js with trim: true).',
    },
    {
      id: 'v2.robust.non-ascii',
      title: 'Chinese, emoji and XML special characters in attach (中文与表情)',
      template: 'v2/pay-non-ascii.xml',
      hint: 'Rejected a v2 notify with non-ASCII text in attach: parse the body as UTF-8 and sign over the raw field values (no URL-encoding).',
    },
  ]),
  // ── redelivery (重复通知) ───────────────────────────────────────────────────
  ...folder('redelivery (重复通知)', { ...V3_PAY, control: 'v3.pay.success' }, [
    {
      id: 'v3.redelivery.sequential',
      title: 'The same notification twice: same id and resource, re-signed (重复通知)',
      copies: 2,
      sameNotification: true,
      hint: 'A repeated notification was not acknowledged: WeChat re-sends until it gets success; answer success again for a notification already processed (幂等), and process it only once.',
    },
  ]),
  ...folder('redelivery (重复通知)', { ...V2_PAY, control: 'v2.pay.success' }, [
    {
      id: 'v2.redelivery.sequential',
      title: 'The same notification twice (重复通知)',
      copies: 2,
      sameNotification: true,
      hint: 'A repeated notification was not acknowledged: answer SUCCESS again for an order already processed (幂等), and process it only once.',
    },
  ]),
  ...folder('redelivery (重复通知)', { ...V3_PAY, control: 'v3.pay.success' }, [
    {
      id: 'v3.redelivery.concurrent',
      title: 'Three copies at the same instant, then one more, as from several WeChat servers (并发重复通知)',
      concurrent: 3,
      hint: 'Concurrent copies of one notification were not all acknowledged within 5 s: lock per order (or rely on a unique constraint), answer success to every copy, and process once.',
    },
  ]),
];
