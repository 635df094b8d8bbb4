import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { CONFIG } from '../../src/config/contract.js';
import { updateConfigTable } from '../../src/config/render-config-table.js';
import { renderSchemaText } from '../../src/config/render-schema.js';
import { leaves } from '../../src/config/spec.js';
import { validateConfig } from '../../src/config/validate-config.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

/**
 * One contract (src/config/contract.ts), several products: the validator, schema.json and the
 * table in docs/config.md. The generated files must be what the generators write now, and the schema and the
 * validator must judge a corpus of valid and invalid configs alike.
 */

type Json = Record<string, unknown>;
type Env = Record<string, string>;

const V2_KEY = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';
const V3_KEY = 'Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4';
/** What the ${NAME} references in the corpus resolve to: each a valid value for its field. */
const ENV: Env = {
  WXPAY_V2_API_KEY: V2_KEY,
  WXPAY_V3_API_KEY: V3_KEY,
  SIGN: 'HMAC-SHA256',
  HOST: 'shop.example.com',
  APPID: 'wx2421b1c4370ec43b',
  ORDER_NO: 'T20260101000099',
  SUB: '1900000110',
  SHOP: 'acme-shop',
};

const schemaFile = join(PACKAGE_ROOT, 'src', 'config', 'schema.json');
const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Json;
// A standard JSON Schema 2020-12 validator, strict: an unknown keyword or an extension such as
// ajv's $data would fail to compile here.
const ajv = new Ajv2020({ allErrors: true, strictSchema: true, strictTypes: true, strictTuples: true });
const schemaValidate = ajv.compile(schema);

function v2(): Json {
  return {
    name: 'shop',
    appid: 'wx2421b1c4370ec43b',
    mchid: '1900000109',
    v2: { notifyUrl: 'https://a.example/n', refundNotifyUrl: 'https://a.example/r', apiKey: V2_KEY },
  };
}

function v3(): Json {
  return {
    name: 'shop',
    appid: 'wx2421b1c4370ec43b',
    mchid: '1900000109',
    v3: {
      notifyUrl: 'https://a.example/v3/n',
      refundNotifyUrl: 'https://a.example/v3/r',
      apiV3Key: V3_KEY,
      platform: { privateKeyFile: 'keys/public-key-signer.pem', serial: 'PUB_KEY_ID_0100TEST0000000000000000000001' },
    },
  };
}

function full(): Json {
  const config: Json = { $schema: './node_modules/wxpay-notify/src/config/schema.json', ...v2(), ...v3() };
  (config.v2 as Json).signType = 'HMAC-SHA256';
  (config.v3 as Json).platformCertificate = {
    privateKeyFile: 'keys/certificate-signer.pem',
    serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  };
  return {
    ...config,
    partner: {
      spAppid: 'wx8888888888888888',
      spMchid: '1230000109',
      subAppid: 'wxd678efh567hg6999',
      subMchid: '1900000109',
    },
    combine: { subMchids: ['1900000109', '1900000110'] },
    order: {
      outTradeNo: 'T20261127000001',
      total: 250,
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      transactionId: '4200000000000000000000000001',
      outRefundNo: 'R1',
      refundId: '50000000000000000000000000001',
      refund: 250,
    },
  };
}

/** `base` with the field at a dotted path set (undefined: removed). */
function set(base: () => Json, path: string, value: unknown): Json {
  const config = base();
  const keys = path.split('.');
  const last = keys.pop() ?? '';
  let node = config;
  for (const key of keys) {
    node[key] ??= {};
    node = node[key] as Json;
  }
  if (value === undefined) delete node[last];
  else node[last] = value;
  return config;
}

const s = (n: number, ch = 'a'): string => ch.repeat(n);

/** [what, config, valid]: the schema and the validator (with ENV) must both give `valid`. */
const CORPUS: [string, unknown, boolean][] = [
  // The whole config
  ['minimal v2', v2(), true],
  ['minimal v3', v3(), true],
  ['every field', full(), true],
  ['not an object: null', null, false],
  ['not an object: array', [], false],
  ['not an object: string', 'name: shop', false],
  ['empty object', {}, false],
  ['neither v2 nor v3', set(v2, 'v2', undefined), false],
  ['name missing', set(v2, 'name', undefined), false],
  ['appid missing', set(v2, 'appid', undefined), false],
  ['unknown top-level field', set(v2, 'appId', 'wx'), false],
  ['"__proto__" as a field', JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(v2()).slice(1)}`) as unknown, false],
  ['$schema any string', set(v2, '$schema', 'anything at all'), true],
  ['$schema a number', set(v2, '$schema', 5), false],
  // Strings everywhere: type, empty, whitespace, control characters
  ['mchid a number', set(v2, 'mchid', 1900000109), false],
  ['appid null', set(v2, 'appid', null), false],
  ['appid empty', set(v2, 'appid', ''), false],
  // What no notification can carry byte for byte, and what a runtime would resolve after signing
  ['appid with {{v2_api_key}} (sent as written)', set(v2, 'appid', 'wx{{v2_api_key}}"]]>'), true],
  ['appid with U+FFFF (not an XML character)', set(v2, 'appid', 'wx\uffff'), false],
  ['appid with U+FFFE', set(v2, 'appid', 'wx\ufffe1'), false],
  ['appid with a lone surrogate', set(v2, 'appid', 'wx\ud800x'), false],
  ['appid with a non-BMP character (a surrogate pair)', set(v2, 'appid', 'wx😀'), true],
  ['notify URL with {{…}}', set(v2, 'v2.notifyUrl', 'https://a.example/{{v2_api_key}}'), false],
  ['notify URL with a brace', set(v2, 'v2.notifyUrl', 'https://a.example/n?x={'), false],
  ['public-key serial with {{…}}', set(v3, 'v3.platform.serial', 'PUB_KEY_ID_{{v3_api_key}}'), false],
  ['public-key serial with a space', set(v3, 'v3.platform.serial', 'PUB_KEY ID'), false],
  ['public-key serial with non-ASCII', set(v3, 'v3.platform.serial', 'PUB_KEY_ID_测试'), false],
  ['appid leading space', set(v2, 'appid', ' wx2421b1c4370ec43b'), false],
  ['appid trailing no-break space', set(v2, 'appid', 'wx2421b1c4370ec43b\u00a0'), false],
  ['appid trailing line break', set(v2, 'appid', 'wx2421b1c4370ec43b\n'), false],
  ['appid with a bell character', set(v2, 'appid', 'wx2421\u0007b1c4370ec43b'), false],
  ['openid with a line break inside', set(v2, 'order.openid', 'oUpF8u\nMuAJO'), false],
  ['openid with a C1 control character', set(v2, 'order.openid', 'oUpF8u\u0085MuAJO'), false],
  ['openid with DEL', set(v2, 'order.openid', 'oUpF8u\u007fMuAJO'), false],
  ['openid with a space inside', set(v2, 'order.openid', 'oUpF8u MuAJO'), true],
  ['openid in Chinese', set(v2, 'order.openid', '用户标识'), true],
  // ${NAME} references
  ['appid from ${ENV}', set(v2, 'appid', '${APPID}'), true],
  ['${NAME} inside a URL', set(v2, 'v2.notifyUrl', 'https://${HOST}/wxpay/notify'), true],
  ['a $ that starts no reference', set(v2, 'order.openid', 'a$b{c}'), true],
  ['$ before a reference', set(v2, 'order.openid', '$${APPID}'), true],
  ['reference name starting with a digit', set(v2, 'appid', '${1BAD}'), false],
  ['unclosed reference', set(v2, 'appid', '${UNCLOSED'), false],
  ['empty reference', set(v2, 'appid', '${}'), false],
  ['a reference then a stray ${', set(v2, 'appid', '${APPID}${'), false],
  ['nested reference', set(v2, 'appid', '${A${APPID}}'), false],
  ['space after a reference', set(v2, 'appid', '${APPID} '), false],
  ['control character next to a reference', set(v2, 'appid', '${APPID}\t'), false],
  // name
  ['name with letters, digits, -, _ and .', set(v2, 'name', 'Acme_Shop-2.test'), true],
  ['name with a space', set(v2, 'name', 'acme shop'), false],
  ['name with a slash', set(v2, 'name', 'acme/shop'), false],
  ['name starting with .', set(v2, 'name', '.hidden'), false],
  ['name of 100 characters', set(v2, 'name', s(100)), true],
  ['name of 101 characters', set(v2, 'name', s(101)), false],
  ['name in Chinese', set(v2, 'name', '商店'), false],
  ['name from ${ENV}', set(v2, 'name', '${SHOP}'), true],
  // notify URLs
  ['HTTPS:// in capitals', set(v2, 'v2.notifyUrl', 'HTTPS://SHOP.EXAMPLE.COM/N'), true],
  ['http with an IP and port', set(v2, 'v2.notifyUrl', 'http://127.0.0.1:8080/n'), true],
  ['http with IPv6', set(v2, 'v2.notifyUrl', 'http://[::1]:8080/n'), true],
  ['URL with user info', set(v2, 'v2.notifyUrl', 'https://user:pw@a.example/n'), true],
  ['URL without a path', set(v2, 'v2.notifyUrl', 'https://a.example'), true],
  ['URL with a query right after the host', set(v2, 'v2.notifyUrl', 'https://a.example?x=1'), true],
  ['URL with an empty port', set(v2, 'v2.notifyUrl', 'https://a.example:/n'), true],
  ['ftp URL', set(v2, 'v2.notifyUrl', 'ftp://a.example/n'), false],
  ['relative URL', set(v2, 'v2.notifyUrl', '/wxpay/notify'), false],
  ['http: without //', set(v2, 'v2.notifyUrl', 'http:a.example/n'), false],
  ['https:// without a host', set(v2, 'v2.notifyUrl', 'https://'), false],
  ['https:/// (empty host)', set(v2, 'v2.notifyUrl', 'https:///n'), false],
  ['URL with a space in the path', set(v2, 'v2.refundNotifyUrl', 'https://a.example/x y'), false],
  ['URL with a space in the host', set(v2, 'v2.refundNotifyUrl', 'https://a exa.com/'), false],
  ['URL with a bad IPv6 host', set(v2, 'v2.refundNotifyUrl', 'https://[zz]/'), false],
  ['URL with a tab', set(v2, 'v2.refundNotifyUrl', 'https://a.example/r\t'), false],
  ['refund notify URL missing', set(v2, 'v2.refundNotifyUrl', undefined), false],
  // API keys
  ['APIv2 key of 31 characters', set(v2, 'v2.apiKey', V2_KEY.slice(1)), false],
  ['APIv2 key of 33 characters', set(v2, 'v2.apiKey', `${V2_KEY}x`), false],
  ['APIv2 key with a space inside', set(v2, 'v2.apiKey', `${V2_KEY.slice(0, 16)} ${V2_KEY.slice(17)}`), false],
  ['APIv2 key with a full-width letter', set(v2, 'v2.apiKey', `${V2_KEY.slice(1)}Ａ`), false],
  ['APIv2 key with $ and {', set(v2, 'v2.apiKey', `$a{${V2_KEY.slice(3)}`), true],
  ['APIv2 key from ${ENV}', set(v2, 'v2.apiKey', '${WXPAY_V2_API_KEY}'), true],
  ['APIv3 key missing', set(v3, 'v3.apiV3Key', undefined), false],
  ['v3 notify URL in capitals', set(v3, 'v3.notifyUrl', 'HTTP://A.EXAMPLE/V3'), true],
  ['v3 notify URL without a scheme', set(v3, 'v3.notifyUrl', 'a.example/v3/n'), false],
  ['v3 refund notify URL a number', set(v3, 'v3.refundNotifyUrl', 8080), false],
  // signType
  ['signType MD5', set(v2, 'v2.signType', 'MD5'), true],
  ['signType HMAC-SHA256', set(v2, 'v2.signType', 'HMAC-SHA256'), true],
  ['signType in lower case', set(v2, 'v2.signType', 'hmac-sha256'), false],
  ['signType RSA', set(v2, 'v2.signType', 'RSA'), false],
  ['signType empty', set(v2, 'v2.signType', ''), false],
  ['signType null', set(v2, 'v2.signType', null), false],
  ['signType from ${ENV}', set(v2, 'v2.signType', '${SIGN}'), true],
  // v3 signers
  [
    'v3 with only platformCertificate',
    set(() => set(v3, 'v3.platform', undefined), 'v3.platformCertificate', {
      privateKeyFile: 'k.pem',
      serial: '51:57:f0:9e',
    }),
    true,
  ],
  ['v3 with both signers', set(full, 'v2', undefined), true],
  ['v3 with neither signer', set(v3, 'v3.platform', undefined), false],
  ['platform null', set(v3, 'v3.platform', null), false],
  ['platform a string', set(v3, 'v3.platform', 'keys/p.pem'), false],
  ['platform without serial', set(v3, 'v3.platform.serial', undefined), false],
  ['platform without privateKeyFile', set(v3, 'v3.platform.privateKeyFile', undefined), false],
  ['platform with an unknown field', set(v3, 'v3.platform.serail', 'x'), false],
  ['platform serial that is not PUB_KEY_ID_ (short hex)', set(v3, 'v3.platform.serial', 'ABCDEF'), true],
  [
    'platform serial that looks like a certificate serial',
    set(v3, 'v3.platform.serial', '5157F09EFDC096DE15EB'),
    false,
  ],
  ['platform serial with colons, certificate-like', set(v3, 'v3.platform.serial', '51:57:F0:9E:FD:C0'), false],
  ['certificate serial "xyz"', set(full, 'v3.platformCertificate.serial', 'xyz'), false],
  ['certificate serial in lower case with colons', set(full, 'v3.platformCertificate.serial', '51:57:f0:9e'), true],
  ['certificate serial PUB_KEY_ID_', set(full, 'v3.platformCertificate.serial', 'PUB_KEY_ID_0100'), false],
  ['certificate serial ":" alone', set(full, 'v3.platformCertificate.serial', ':'), false],
  ['certificate serial with -', set(full, 'v3.platformCertificate.serial', '5157-F09E'), false],
  ['certificate serial empty', set(full, 'v3.platformCertificate.serial', ''), false],
  ['privateKeyFile empty', set(full, 'v3.platformCertificate.privateKeyFile', ''), false],
  // partner
  ['partner without subAppid', set(full, 'partner.subAppid', undefined), true],
  ['partner without subMchid', set(full, 'partner.subMchid', undefined), false],
  ['partner without spAppid', set(full, 'partner.spAppid', undefined), false],
  ['partner spMchid a number', set(full, 'partner.spMchid', 1230000109), false],
  ['partner subAppid empty', set(full, 'partner.subAppid', ''), false],
  ['partner an array', set(full, 'partner', []), false],
  // combine
  ['combine {} with v3', set(v3, 'combine', {}), true],
  ['combine without v3', set(v2, 'combine', {}), false],
  ['combine with one sub-merchant', set(full, 'combine.subMchids', ['1900000109']), false],
  ['combine with three sub-merchants', set(full, 'combine.subMchids', ['1', '2', '3']), false],
  ['combine with a number', set(full, 'combine.subMchids', ['1900000109', 1900000110]), false],
  ['combine with an empty ID', set(full, 'combine.subMchids', ['', '1900000110']), false],
  ['combine with a control character', set(full, 'combine.subMchids', ['1900\n000109', '1900000110']), false],
  ['combine with a leading space', set(full, 'combine.subMchids', [' 1900000109', '1900000110']), false],
  ['combine with an ID from ${ENV}', set(full, 'combine.subMchids', ['${SUB}', '1900000109']), true],
  ['combine subMchids a string', set(full, 'combine.subMchids', '1900000109'), false],
  ['combine null', set(full, 'combine', null), false],
  ['combine with an unknown field', set(v3, 'combine', { subMchid: 'x' }), false],
  // order
  ['order {}', set(v2, 'order', {}), true],
  ['order null', set(v2, 'order', null), false],
  ['order with an unknown field', set(v2, 'order.totl', 1), false],
  ['outTradeNo "abc"', set(v2, 'order.outTradeNo', 'abc'), false],
  ['outTradeNo of 6', set(v2, 'order.outTradeNo', s(6)), true],
  ['outTradeNo of 32', set(v2, 'order.outTradeNo', s(32)), true],
  ['outTradeNo of 33', set(v2, 'order.outTradeNo', s(33)), false],
  ['outTradeNo with _ - | *', set(v2, 'order.outTradeNo', 'A-B_C|D*E'), true],
  ['outTradeNo with #', set(v2, 'order.outTradeNo', 'T2026#0001'), false],
  ['outTradeNo from ${ENV}', set(v2, 'order.outTradeNo', '${ORDER_NO}'), true],
  ['outRefundNo of 64 with @', set(v2, 'order.outRefundNo', `@${s(63)}`), true],
  ['outRefundNo of 65', set(v2, 'order.outRefundNo', s(65)), false],
  ['outRefundNo with #', set(v2, 'order.outRefundNo', 'R#1'), false],
  ['transactionId a number', set(v2, 'order.transactionId', 4.2e27), false],
  ['refundId empty', set(v2, 'order.refundId', ''), false],
  ['total 1', set(v2, 'order.total', 1), true],
  ['total 0', set(v2, 'order.total', 0), false],
  ['total -1', set(v2, 'order.total', -1), false],
  ['total 1.5', set(v2, 'order.total', 1.5), false],
  ['total "100"', set(v2, 'order.total', '100'), false],
  ['total null', set(v2, 'order.total', null), false],
  ['total NaN (YAML .nan)', set(v2, 'order.total', Number.NaN), false],
  ['total Infinity (YAML .inf)', set(v2, 'order.total', Number.POSITIVE_INFINITY), false],
  ['total 2^53 - 1', set(v2, 'order.total', Number.MAX_SAFE_INTEGER), true],
  ['total 2^53', set(v2, 'order.total', 2 ** 53), false],
  ['total 2^60', set(v2, 'order.total', 2 ** 60), false],
  ['refund = total', set(() => set(v2, 'order.total', 250), 'order.refund', 250), true],
  ['refund < total', set(() => set(v2, 'order.total', 250), 'order.refund', 50), true],
  ['refund = the default total', set(v2, 'order.refund', 100), true],
  ['refund > the default total', set(v2, 'order.refund', 101), false],
  ['refund 0', set(v2, 'order.refund', 0), false],
  ['refund and total both 2^60', set(() => set(v2, 'order.total', 2 ** 60), 'order.refund', 2 ** 60), false],
  ['refund next to a total that is a string', set(() => set(v2, 'order.total', '200'), 'order.refund', 150), false],
];

/**
 * Where the two differ, by design: a ${NAME} value is checked when it is resolved (the schema sees
 * only the reference), the WHATWG URL parser refuses hosts and ports the schema's pattern lets
 * through, and refund ≤ total compares two values. [what, config, env]: the schema accepts, the
 * validator refuses.
 */
const RESOLVED_ONLY: [string, Json, Env][] = [
  ['an unset variable', set(v2, 'v2.apiKey', '${UNSET_KEY}'), {}],
  ['an empty variable', set(v2, 'v2.apiKey', '${K}'), { K: '' }],
  ['a key of the wrong length from ${ENV}', set(v2, 'v2.apiKey', '${K}'), { K: V2_KEY.slice(1) }],
  ['a control character from ${ENV}', set(v2, 'v2.notifyUrl', '${URL}'), { URL: 'https://a.example/n\nX-Injected: 1' }],
  ['a name starting with . from ${ENV}', set(v2, 'name', '${N}'), { N: '.hidden' }],
  ['an IPv4 host with a part over 255', set(v2, 'v2.notifyUrl', 'http://1.2.3.999/n'), {}],
  ['a port over 65535', set(v2, 'v2.notifyUrl', 'https://a.example:99999/n'), {}],
  // A comparison of two values, which standard JSON Schema cannot state (the schema's description lists it).
  ['refund > total', set(() => set(v2, 'order.total', 250), 'order.refund', 251), {}],
];

function schemaErrors(config: unknown): ErrorObject[] {
  return schemaValidate(config) ? [] : [...(schemaValidate.errors ?? [])];
}

/** The field each schema error is about, in the validator's path notation. */
function errorFields(errors: ErrorObject[]): Set<string> {
  return new Set(
    errors.map((e) => {
      const at = e.instancePath
        .split('/')
        .slice(1)
        .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
      const named =
        (e.params as Record<string, unknown>).missingProperty ??
        (e.params as Record<string, unknown>).additionalProperty;
      if (e.keyword === 'dependentRequired') at.push(String((e.params as Record<string, unknown>).property));
      else if (typeof named === 'string') at.push(named);
      return at.join('.');
    }),
  );
}

const validatorPaths = (config: unknown, env: Env): string[] =>
  validateConfig(config, env).problems.map((p) => p.path.replace(/\[(\d+)\]/g, '.$1'));

describe('the config contract', () => {
  it('schema.json is what `npm run schema` writes from it', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(renderSchemaText());
  });

  it('the field table of docs/config.md is what `npm run docs` writes from it', () => {
    const page = readFileSync(join(PACKAGE_ROOT, 'docs', 'config.md'), 'utf8');
    expect(updateConfigTable(page)).toBe(page);
  });

  it.each(CORPUS)('schema and validator agree: %s', (_what, config, valid) => {
    const errors = schemaErrors(config);
    const problems = validatorPaths(config, ENV);
    expect(
      { schema: errors.length === 0, validator: problems.length === 0 },
      JSON.stringify({ errors, problems }),
    ).toEqual({ schema: valid, validator: valid });
    // Every field the validator names, the schema flags too.
    const flagged = errorFields(errors);
    for (const path of problems) expect([...flagged], path).toContain(path);
  });

  it('is standard JSON Schema 2020-12, and names the rules across fields only wxpay-notify checks', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(JSON.stringify(schema)).not.toContain('$data');
    expect(schema.description).toContain(
      'Checked by wxpay-notify only, as a JSON Schema cannot compare two values: order.refund ≤ order.total.',
    );
  });

  it.each(RESOLVED_ONLY)('only the validator can judge %s', (_what, config, env) => {
    expect(schemaErrors(config)).toEqual([]);
    expect(validatorPaths(config, env)).not.toEqual([]);
  });

  it('the corpus breaks every field of the contract', () => {
    const broken = new Set(CORPUS.filter(([, , valid]) => !valid).flatMap(([, config]) => validatorPaths(config, ENV)));
    expect(
      leaves(CONFIG)
        .map(({ path }) => path.join('.'))
        .filter((path) => !broken.has(path)),
    ).toEqual([]);
  });
});
