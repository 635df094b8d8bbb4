import { V2_SIGN_TYPES } from '../protocol/constants.js';
import {
  amount,
  anyString,
  apiKey,
  httpUrl,
  keyFile,
  oneOf,
  stringPair,
  text,
  textMatching,
  textOfForm,
} from './rules.js';
import { leaf, section, type Rule } from './spec.js';

/**
 * The config contract: every field of wxpay-notify.jsonc, with its rule, whether it is required,
 * its default, what it is for, and what messages say about it. The validator, src/config/schema.json
 * (`npm run schema`), the field table of docs/config.md (`npm run docs`) and the config types all come
 * from this table; tests keep the generated files equal to it.
 */

/** Where merchants find their API keys; messages point there when a key looks mistyped. */
export const KEY_SOURCE = '商户平台 > 账户中心 > API安全';

export const ORDER_DEFAULTS = {
  outTradeNo: 'T20260101000001',
  // Large enough for the coupon cases (a coupon and a cash part of at least 1 fen each).
  total: 100,
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  transactionId: '4200000000000000000000000001',
  refundId: '50000000000000000000000000001',
} as const;

const NAME_FORM = /^(?!\.)[A-Za-z0-9._-]{1,100}$/u;

/** `name` names the output files; the message says which rule the value breaks. */
const collectionName: Rule<string> = textOfForm(NAME_FORM, (c, name, at) => {
  const bad = [...new Set(name.replace(/[A-Za-z0-9._-]/g, ''))];
  if (bad.length > 0) {
    const found = bad
      .slice(0, 5)
      .map((ch) => JSON.stringify(ch))
      .join(' ');
    c.add(
      at.path,
      `can use only letters, digits, -, _ and . because it names the output files (found ${found}); e.g. "acme-shop"`,
    );
  } else if (name.startsWith('.')) {
    c.add(at.path, 'must not start with "." because it names the output files; e.g. "acme-shop"');
  } else if (name.length > 100) {
    c.add(at.path, `is too long (${name.length} characters); keep it to 100, it names the output files`);
  } else {
    return name;
  }
  return undefined;
});

/** A public-key ID, not something that looks like a hex certificate serial. */
const PUBLIC_KEY_ID_FORM = /^(?![0-9A-Fa-f:]{16,}$)[!-z|~]+$/u;
const publicKeyId: Rule<string> = textOfForm(PUBLIC_KEY_ID_FORM, (c, serial, at) => {
  if (PUBLIC_KEY_ID_FORM.test(serial)) return serial;
  if (!/^[!-z|~]+$/u.test(serial)) {
    // It is sent as the Wechatpay-Serial header: ASCII only, and Postman and Bruno read {{name}} in a
    // header as a variable after the script has signed.
    c.add(
      at.path,
      `is sent in the Wechatpay-Serial header: use visible ASCII without spaces, { or }, e.g. "PUB_KEY_ID_0100TEST0000000000000000000001" (got ${c.shown(serial)})`,
    );
    return undefined;
  }
  c.add(
    at.path,
    'looks like a platform certificate serial (平台证书序列号), but v3.platform is the WeChat Pay public key (微信支付公钥, serial PUB_KEY_ID_…); for a certificate-only set-up move this signer to `v3.platformCertificate`',
  );
  return undefined;
});

/** Hex digits, `:` separators allowed; the validated config holds it upper-case without them. */
const CERTIFICATE_SERIAL_FORM = /^:*[0-9A-Fa-f][0-9A-Fa-f:]*$/u;
const certificateSerial: Rule<string> = textOfForm(CERTIFICATE_SERIAL_FORM, (c, serial, at, raw) => {
  if (serial.startsWith('PUB_KEY_ID_')) {
    c.add(
      at.path,
      'is a WeChat Pay public-key ID (微信支付公钥ID), not a certificate serial; put it in `v3.platform.serial`, and here the hex serial number of the platform certificate (平台证书序列号)',
    );
  } else if (!CERTIFICATE_SERIAL_FORM.test(serial)) {
    c.add(
      at.path,
      `the platform certificate serial (平台证书序列号) must be hexadecimal, e.g. "5157F09EFDC096DE15EBE81A47057A7232F1B8E1" (got ${c.shown(raw)})`,
    );
  } else {
    return serial.replace(/:/g, '').toUpperCase();
  }
  return undefined;
});

const SIGNER_KEY = "the PEM file with the simulated WeChat Pay signer's RSA private key, relative to this config file";

/** v3.platform and v3.platformCertificate: a private key file and the serial the signer announces. */
function signer(
  description: string,
  serial: { rule: Rule<string>; what: string; description: string; examples: string[] },
) {
  return section(
    {
      privateKeyFile: leaf(keyFile(), {
        required: true,
        what: SIGNER_KEY,
        description:
          "PEM file with the signer's RSA private key (≥ 2048 bits, no passphrase), relative to this config file; `wxpay-notify init` makes a test key pair.",
        examples: ['keys/wechatpay-signer.pem'],
      }),
      serial: leaf(serial.rule, {
        required: true,
        what: serial.what,
        description: serial.description,
        examples: serial.examples,
      }),
    },
    // The PEM text, read by loadConfig from privateKeyFile.
    { description, adds: { privateKeyPem: '' as string } },
  );
}

const NOTIFY_URL = {
  description:
    'Payment result notify URL (支付结果通知 notify_url) of your TEST server: an absolute http:// or https:// URL.',
  what: 'the URL WeChat Pay posts payment results to (支付结果通知 notify_url)',
};
const REFUND_NOTIFY_URL = {
  description:
    'Refund result notify URL (退款结果通知 notify_url) of your TEST server: an absolute http:// or https:// URL.',
  what: 'the URL WeChat Pay posts refund results to (退款结果通知 notify_url)',
};
const URL_EXAMPLES = ['https://shop.example.com/wxpay/notify'];

export const CONFIG = section(
  {
    $schema: leaf(anyString(), {
      ignored: true,
      description:
        'Path or URL of this JSON Schema (src/config/schema.json), for editor completion. Ignored by wxpay-notify.',
      examples: ['./node_modules/wxpay-notify/src/config/schema.json'],
    }),
    name: leaf(collectionName, {
      required: true,
      what: 'a collection name such as "acme-shop"; it names the output files',
      description:
        'Collection name; the output files are `<name>.postman_collection.json` and `<name>.postman_environment.json`. Letters, digits, `-`, `_` and `.`, at most 100, not starting with `.`.',
      examples: ['acme-shop'],
    }),
    appid: leaf(text(), {
      required: true,
      what: 'the AppID (公众号/小程序/应用 AppID) the payments belong to, e.g. "wx2421b1c4370ec43b"',
      description: 'AppID the payments belong to (公众号/小程序/应用 AppID).',
      examples: ['wx2421b1c4370ec43b'],
    }),
    mchid: leaf(text(), {
      required: true,
      what: 'your merchant ID (商户号), e.g. "1900000109"',
      description: 'Merchant ID (商户号 mchid). A string: quote it.',
      examples: ['1900000109'],
    }),
    v2: section(
      {
        notifyUrl: leaf(httpUrl(), { required: true, ...NOTIFY_URL, examples: URL_EXAMPLES }),
        refundNotifyUrl: leaf(httpUrl(), { required: true, ...REFUND_NOTIFY_URL, examples: URL_EXAMPLES }),
        apiKey: leaf(apiKey(KEY_SOURCE), {
          required: true,
          secretLabel: 'APIv2 key (APIv2密钥)',
          what: `the APIv2 key (APIv2密钥) from ${KEY_SOURCE}; write "\${WXPAY_V2_API_KEY}" to read it from the environment`,
          description: `APIv2 key (APIv2密钥), 32 printable ASCII characters, from ${KEY_SOURCE}. Keep it out of the file: \`"\${WXPAY_V2_API_KEY}"\`.`,
          examples: ['${WXPAY_V2_API_KEY}'],
        }),
        signType: leaf(
          oneOf(
            V2_SIGN_TYPES,
            (shown, guess) =>
              `sign type (签名类型 sign_type) must be "MD5" or "HMAC-SHA256" (got ${shown}${guess ? `; did you mean "${guess}"?` : ''})`,
          ),
          {
            default: 'MD5',
            description: `Sign type (签名类型 sign_type): ${V2_SIGN_TYPES.map((t) => `\`${t}\``).join(' or ')}; how your orders are signed, so how payment notifications are.`,
          },
        ),
      },
      { description: 'APIv2 notifications (XML, MD5 or HMAC-SHA256 signed). Omit to generate no v2 cases.' },
    ),
    v3: section(
      {
        notifyUrl: leaf(httpUrl(), { required: true, ...NOTIFY_URL, examples: URL_EXAMPLES }),
        refundNotifyUrl: leaf(httpUrl(), { required: true, ...REFUND_NOTIFY_URL, examples: URL_EXAMPLES }),
        apiV3Key: leaf(apiKey(KEY_SOURCE), {
          required: true,
          secretLabel: 'APIv3 key (APIv3密钥)',
          what: `the APIv3 key (APIv3密钥) from ${KEY_SOURCE}; write "\${WXPAY_V3_API_KEY}" to read it from the environment`,
          description: `APIv3 key (APIv3密钥), 32 printable ASCII characters, from ${KEY_SOURCE}. Keep it out of the file: \`"\${WXPAY_V3_API_KEY}"\`.`,
          examples: ['${WXPAY_V3_API_KEY}'],
        }),
        platform: signer(
          'The simulated WeChat Pay public-key signer (微信支付公钥, serial `PUB_KEY_ID_…`). Set it, `platformCertificate`, or both; `wxpay-notify init --key-mode` creates them.',
          {
            rule: publicKeyId,
            what: 'the WeChat Pay public-key ID (微信支付公钥ID) your test set-up trusts, e.g. "PUB_KEY_ID_0100…"',
            description:
              'The WeChat Pay public-key ID (微信支付公钥ID) the signer announces in `Wechatpay-Serial`, `PUB_KEY_ID_…`; not a hex certificate serial.',
            examples: ['PUB_KEY_ID_0100TEST0000000000000000000001'],
          },
        ),
        platformCertificate: signer(
          'The simulated platform certificate signer (平台证书, hex serial). Alone for a certificate-only merchant; with `platform`, the key-mode (switch-over) cases run.',
          {
            rule: certificateSerial,
            what: 'the platform certificate serial number (平台证书序列号) in hex',
            description:
              'The platform certificate serial number (平台证书序列号) the signer announces in `Wechatpay-Serial`: hexadecimal, `:` separators allowed; sent upper-case without them.',
            examples: ['5157F09EFDC096DE15EBE81A47057A7232F1B8E1'],
          },
        ),
      },
      {
        description:
          'APIv3 notifications (JSON, RSA-signed, AES-256-GCM encrypted resource). Omit to generate no v3 cases.',
        atLeastOne: {
          fields: ['platform', 'platformCertificate'],
          path: 'v3.platform',
          message:
            'or v3.platformCertificate is required: the simulated WeChat Pay signer your test server trusts. Public key only (微信支付公钥): v3.platform with a PUB_KEY_ID_… serial; certificate only (平台证书): v3.platformCertificate with the hex serial; both for the switch-over. `wxpay-notify init --key-mode public-key|certificate|both` writes the one you need',
        },
      },
    ),
    partner: section(
      {
        spAppid: leaf(text(), {
          required: true,
          what: 'the service provider AppID (服务商 sp_appid)',
          description: 'Service provider AppID (服务商 sp_appid).',
        }),
        spMchid: leaf(text(), {
          required: true,
          what: 'the service provider merchant ID (服务商商户号 sp_mchid)',
          description: 'Service provider merchant ID (服务商商户号 sp_mchid).',
        }),
        subAppid: leaf(text(), {
          description:
            "Sub-merchant AppID (子商户 sub_appid). Without it no `sub_appid` or `sub_openid` is sent; `sub_openid` is a value of its own, not the order's `openid` (it belongs to another AppID).",
        }),
        subMchid: leaf(text(), {
          required: true,
          what: 'the sub-merchant ID (子商户号 sub_mchid)',
          description: 'Sub-merchant ID (子商户号 sub_mchid).',
        }),
      },
      {
        description:
          'Service provider mode (服务商模式): notifications carry `sp_*` and `sub_*` fields. Omit for a direct merchant (直连商户).',
      },
    ),
    combine: section(
      {
        subMchids: leaf(
          stringPair({
            count: (got) =>
              `the combined payment case sends two sub-orders (子单): give two merchant IDs, e.g. ["1900000109", "1900000110"] (got ${got})`,
            item: (shown) =>
              `expected a merchant ID (商户号) as a non-empty string, e.g. "1900000110" (got ${shown}); put numbers in quotes`,
          }),
          {
            description:
              "Merchant IDs of the two sub-orders (子单): each sub-order's `mchid`, or its `sub_mchid` in partner mode.",
            defaultNote: '`mchid` twice (partner: `partner.subMchid`)',
            examples: [['1900000109', '1900000110']],
          },
        ),
      },
      {
        description:
          'Opts in to the combined payment (合单支付) case `v3.pay.combine`, sent to `v3.notifyUrl`; needs `v3`. `{}` uses your own merchant for both sub-orders.',
        needs: {
          field: 'v3',
          message: 'the combined payment (合单支付) notification is a v3 one: add a `v3` section, or remove `combine`',
        },
      },
    ),
    order: section(
      {
        outTradeNo: leaf(
          textMatching(
            /^[A-Za-z0-9_\-|*]{6,32}$/u,
            (shown) =>
              `the order number (商户订单号 out_trade_no) must be 6 to 32 letters, digits or _ - | * (got ${shown})`,
          ),
          {
            default: ORDER_DEFAULTS.outTradeNo,
            description: 'Merchant order number (商户订单号 out_trade_no): 6 to 32 letters, digits or _ - | *.',
          },
        ),
        total: leaf(amount('order amount (订单金额 total)'), {
          default: ORDER_DEFAULTS.total,
          description:
            'Order amount in fen (订单金额 total, 分), a positive whole number: 100 = ¥1.00. At least 2 when the coupon cases run (a tenth, at least 1 fen, is paid with a coupon: `cash_fee = total_fee − coupon_fee`).',
        }),
        openid: leaf(text(), {
          default: ORDER_DEFAULTS.openid,
          description: "Payer's openid under appid (用户标识 openid).",
        }),
        transactionId: leaf(text(), {
          default: ORDER_DEFAULTS.transactionId,
          description: 'WeChat Pay order number (微信支付订单号 transaction_id). A string: quote it.',
        }),
        outRefundNo: leaf(
          textMatching(
            /^[A-Za-z0-9_\-|*@]{1,64}$/u,
            (shown) =>
              `the refund number (商户退款单号 out_refund_no) must be 1 to 64 letters, digits or _ - | * @ (got ${shown})`,
          ),
          {
            derive: {
              value: (order) => (typeof order.outTradeNo === 'string' ? `R${order.outTradeNo.slice(1)}` : undefined),
              note: '`R` + `outTradeNo` without its first character',
            },
            description: 'Merchant refund number (商户退款单号 out_refund_no): 1 to 64 letters, digits or _ - | * @.',
          },
        ),
        refundId: leaf(text(), {
          default: ORDER_DEFAULTS.refundId,
          description: 'WeChat Pay refund number (微信支付退款单号 refund_id). A string: quote it.',
        }),
        refund: leaf(
          amount('refund amount (退款金额 refund)', {
            field: 'total',
            label: 'order amount (订单金额 total)',
            fallback: ORDER_DEFAULTS.total,
          }),
          {
            derive: { value: (order) => (typeof order.total === 'number' ? order.total : undefined), note: '`total`' },
            description: 'Refund amount in fen (退款金额 refund, 分), at most `total`.',
          },
        ),
      },
      {
        defaulted: true,
        description:
          'The order the notifications describe; every field has a default. The order numbers are bases: each case sends its own, with the last six characters replaced by a code derived from the case id.',
      },
    ),
  },
  {
    description:
      "Merchant settings for simulating WeChat Pay (微信支付) callback notifications. Any string may contain ${NAME}, read from the environment. Relative paths resolve against this file's folder.",
    atLeastOne: {
      fields: ['v2', 'v3'],
      path: '',
      message:
        'the config has neither a `v2` nor a `v3` section; add at least one (v2 for APIv2 notifications, v3 for APIv3)',
    },
  },
);
