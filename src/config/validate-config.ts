import { V2_SIGN_TYPES, type V2SignType } from '../protocol/constants.js';
import type { ConfigProblem } from './errors.js';
import type { OrderConfig, PartnerConfig, PlatformSigner, ResolvedConfig, V2Config, V3Config } from './types.js';

/**
 * Validate a parsed config and resolve its ${ENV} references. Pure: no file access; key files are
 * only named (keyFiles) for loadConfig to read. Returns every problem, each with its field path.
 */

/** A config that passed validation; key files are named but not read yet (privateKeyPem is ''). */
export type ValidatedConfig = Omit<ResolvedConfig, 'configDir'>;
/** A privateKeyFile value (relative to the config file), with its field path. */
export interface KeyFileRef {
  path: string;
  /** With ${NAME} resolved. */
  file: string;
  /** As written in the config: what messages may show, since env values may be secret. */
  written: string;
}
export interface ValidationResult {
  /** Present only when there are no problems. */
  config?: ValidatedConfig;
  problems: ConfigProblem[];
  /** Every privateKeyFile that is a valid string, even when other fields have problems. */
  keyFiles: KeyFileRef[];
}
export type Env = Readonly<Record<string, string | undefined>>;

/** The allowed field names, a tree. schema.json must list exactly these (a test ties them). */
export type FieldTree = { readonly [name: string]: FieldTree | 'value' };
const SIGNER_FIELDS = { privateKeyFile: 'value', serial: 'value' } as const;
export const CONFIG_FIELDS = {
  $schema: 'value',
  name: 'value',
  appid: 'value',
  mchid: 'value',
  v2: { notifyUrl: 'value', refundNotifyUrl: 'value', apiKey: 'value', signType: 'value' },
  v3: { notifyUrl: 'value', refundNotifyUrl: 'value', apiV3Key: 'value', platform: SIGNER_FIELDS, platformCertificate: SIGNER_FIELDS },
  partner: { spAppid: 'value', spMchid: 'value', subAppid: 'value', subMchid: 'value' },
  order: { outTradeNo: 'value', total: 'value', openid: 'value', transactionId: 'value', outRefundNo: 'value', refundId: 'value', refund: 'value' },
} as const satisfies FieldTree;

export const ORDER_DEFAULTS = {
  outTradeNo: 'T20260101000001',
  total: 1,
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  transactionId: '4200000000000000000000000001',
  refundId: '50000000000000000000000000001',
} as const;

const KEY_SOURCE = '商户平台 > 账户中心 > API安全';
const SIGNER_KEY = "the PEM file with the simulated WeChat Pay signer's RSA private key, relative to this config file";
/** What a required field must hold, for "is required" and "must not be empty". */
const WHAT: Readonly<Record<string, string>> = {
  name: 'a collection name such as "acme-shop"; it names the output files',
  appid: 'the AppID (公众号/小程序/应用 AppID) the payments belong to, e.g. "wx2421b1c4370ec43b"',
  mchid: 'your merchant ID (商户号), e.g. "1900000109"',
  'v2.notifyUrl': 'the URL WeChat Pay posts payment results to (支付结果通知 notify_url)',
  'v2.refundNotifyUrl': 'the URL WeChat Pay posts refund results to (退款结果通知 notify_url)',
  'v2.apiKey': `the APIv2 key (APIv2密钥) from ${KEY_SOURCE}; write "\${WXPAY_V2_API_KEY}" to read it from the environment`,
  'v3.notifyUrl': 'the URL WeChat Pay posts payment results to (支付结果通知 notify_url)',
  'v3.refundNotifyUrl': 'the URL WeChat Pay posts refund results to (退款结果通知 notify_url)',
  'v3.apiV3Key': `the APIv3 key (APIv3密钥) from ${KEY_SOURCE}; write "\${WXPAY_V3_API_KEY}" to read it from the environment`,
  'v3.platform': 'the simulated WeChat Pay signer (微信支付公钥): { "privateKeyFile": …, "serial": "PUB_KEY_ID_…" }; `wxpay-notify init` creates one',
  'v3.platform.privateKeyFile': SIGNER_KEY,
  'v3.platform.serial': 'the WeChat Pay public-key ID (微信支付公钥ID) your test set-up trusts, e.g. "PUB_KEY_ID_0100…"',
  'v3.platformCertificate.privateKeyFile': SIGNER_KEY,
  'v3.platformCertificate.serial': 'the platform certificate serial number (平台证书序列号) in hex',
  'partner.spAppid': 'the service provider AppID (服务商 sp_appid)',
  'partner.spMchid': 'the service provider merchant ID (服务商商户号 sp_mchid)',
  'partner.subMchid': 'the sub-merchant ID (子商户号 sub_mchid)',
};
const SECRET_LABEL: Readonly<Record<string, string>> = { 'v2.apiKey': 'APIv2 key (APIv2密钥)', 'v3.apiV3Key': 'APIv3 key (APIv3密钥)' };

type Obj = Record<string, unknown>;

export function validateConfig(raw: unknown, env: Env): ValidationResult {
  const c = new Checker(env);
  const root = c.object(raw, '', CONFIG_FIELDS);
  if (!root) return { problems: c.problems, keyFiles: [] };
  const name = c.string(root, '', 'name');
  if (name !== undefined) checkName(c, name);
  const appid = c.string(root, '', 'appid');
  const mchid = c.string(root, '', 'mchid');
  const v2 = root.v2 === undefined ? undefined : readV2(c, root.v2);
  const v3 = root.v3 === undefined ? undefined : readV3(c, root.v3);
  if (root.v2 === undefined && root.v3 === undefined) {
    c.add('', 'the config has neither a `v2` nor a `v3` section; add at least one (v2 for APIv2 notifications, v3 for APIv3)');
  }
  const partner = root.partner === undefined ? undefined : readPartner(c, root.partner);
  const order = readOrder(c, root.order);
  if (c.problems.length > 0) return { problems: c.problems, keyFiles: c.keyFiles };
  const config: ValidatedConfig = { name: must(name), appid: must(appid), mchid: must(mchid), order: must(order) };
  if (v2) config.v2 = v2;
  if (v3) config.v3 = v3;
  if (partner) config.partner = partner;
  return { config, problems: [], keyFiles: c.keyFiles };
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('validateConfig: a field is missing although no problem was reported');
  return value;
}

function checkName(c: Checker, name: string): void {
  const bad = [...new Set(name.replace(/[A-Za-z0-9._-]/g, ''))];
  if (bad.length > 0) {
    const shown = bad.slice(0, 5).map((ch) => JSON.stringify(ch)).join(' ');
    c.add('name', `can use only letters, digits, -, _ and . because it names the output files (found ${shown}); e.g. "acme-shop"`);
  } else if (name.startsWith('.')) {
    c.add('name', 'must not start with "." because it names the output files; e.g. "acme-shop"');
  } else if (name.length > 100) {
    c.add('name', `is too long (${name.length} characters); keep it to 100, it names the output files`);
  }
}

function readV2(c: Checker, value: unknown): V2Config | undefined {
  const o = c.object(value, 'v2', CONFIG_FIELDS.v2);
  if (!o) return undefined;
  const notifyUrl = c.url(o, 'v2', 'notifyUrl');
  const refundNotifyUrl = c.url(o, 'v2', 'refundNotifyUrl');
  const apiKey = c.secret(o, 'v2', 'apiKey');
  let signType: V2SignType | undefined = 'MD5';
  const given = c.string(o, 'v2', 'signType', { optional: true });
  if (given !== undefined) {
    signType = V2_SIGN_TYPES.find((t) => t === given);
    if (!signType) {
      const guess = suggest(given, V2_SIGN_TYPES);
      c.add('v2.signType', `sign type (签名类型 sign_type) must be "MD5" or "HMAC-SHA256" (got ${shown(o.signType)}${guess ? `; did you mean "${guess}"?` : ''})`);
    }
  }
  if (notifyUrl === undefined || refundNotifyUrl === undefined || apiKey === undefined || !signType) return undefined;
  return { notifyUrl, refundNotifyUrl, apiKey, signType };
}

function readV3(c: Checker, value: unknown): V3Config | undefined {
  const o = c.object(value, 'v3', CONFIG_FIELDS.v3);
  if (!o) return undefined;
  const notifyUrl = c.url(o, 'v3', 'notifyUrl');
  const refundNotifyUrl = c.url(o, 'v3', 'refundNotifyUrl');
  const apiV3Key = c.secret(o, 'v3', 'apiV3Key');
  if (o.platform === undefined) c.add('v3.platform', `is required: ${WHAT['v3.platform']}`);
  const platform = o.platform === undefined ? undefined : readSigner(c, o.platform, 'v3.platform');
  const certificate = o.platformCertificate === undefined ? undefined : readSigner(c, o.platformCertificate, 'v3.platformCertificate');
  if (notifyUrl === undefined || refundNotifyUrl === undefined || apiV3Key === undefined || !platform) return undefined;
  if (o.platformCertificate !== undefined && !certificate) return undefined;
  const v3: V3Config = { notifyUrl, refundNotifyUrl, apiV3Key, platform };
  if (certificate) v3.platformCertificate = certificate;
  return v3;
}

function readSigner(c: Checker, value: unknown, path: string): PlatformSigner | undefined {
  const o = c.object(value, path, SIGNER_FIELDS);
  if (!o) return undefined;
  const privateKeyFile = c.string(o, path, 'privateKeyFile');
  if (privateKeyFile !== undefined) c.keyFiles.push({ path: `${path}.privateKeyFile`, file: privateKeyFile, written: String(o.privateKeyFile) });
  let serial = c.string(o, path, 'serial');
  if (serial !== undefined && path === 'v3.platformCertificate') {
    const hex = serial.replace(/:/g, '');
    if (serial.startsWith('PUB_KEY_ID_')) {
      c.add(`${path}.serial`, 'is a WeChat Pay public-key ID (微信支付公钥ID), not a certificate serial; put it in `v3.platform.serial`, and here the hex serial number of the platform certificate (平台证书序列号)');
      serial = undefined;
    } else if (!/^[0-9A-Fa-f]+$/.test(hex)) {
      c.add(`${path}.serial`, `the platform certificate serial (平台证书序列号) must be hexadecimal, e.g. "5157F09EFDC096DE15EBE81A47057A7232F1B8E1" (got ${shown(o.serial)})`);
      serial = undefined;
    } else {
      serial = hex.toUpperCase();
    }
  }
  if (privateKeyFile === undefined || serial === undefined) return undefined;
  return { privateKeyFile, privateKeyPem: '', serial };
}

function readPartner(c: Checker, value: unknown): PartnerConfig | undefined {
  const o = c.object(value, 'partner', CONFIG_FIELDS.partner);
  if (!o) return undefined;
  const spAppid = c.string(o, 'partner', 'spAppid');
  const spMchid = c.string(o, 'partner', 'spMchid');
  const subAppid = c.string(o, 'partner', 'subAppid', { optional: true });
  const subMchid = c.string(o, 'partner', 'subMchid');
  if (spAppid === undefined || spMchid === undefined || subMchid === undefined) return undefined;
  if (o.subAppid !== undefined && subAppid === undefined) return undefined;
  return subAppid === undefined ? { spAppid, spMchid, subMchid } : { spAppid, spMchid, subAppid, subMchid };
}

function readOrder(c: Checker, value: unknown): OrderConfig | undefined {
  const o = value === undefined ? {} : c.object(value, 'order', CONFIG_FIELDS.order);
  if (!o) return undefined;
  const text = (key: string, fallback: string): string | undefined =>
    o[key] === undefined ? fallback : c.string(o, 'order', key, { optional: true });
  const outTradeNo = text('outTradeNo', ORDER_DEFAULTS.outTradeNo);
  if (outTradeNo !== undefined && o.outTradeNo !== undefined && !/^[A-Za-z0-9_\-|*]{6,32}$/.test(outTradeNo)) {
    c.add('order.outTradeNo', `the order number (商户订单号 out_trade_no) must be 6 to 32 letters, digits or _ - | * (got ${shown(o.outTradeNo)})`);
  }
  const total = c.amount(o, 'total', 'order amount (订单金额 total)', ORDER_DEFAULTS.total);
  const openid = text('openid', ORDER_DEFAULTS.openid);
  const transactionId = text('transactionId', ORDER_DEFAULTS.transactionId);
  const outRefundNo = text('outRefundNo', outTradeNo === undefined ? '' : `R${outTradeNo.slice(1)}`);
  if (outRefundNo !== undefined && o.outRefundNo !== undefined && !/^[A-Za-z0-9_\-|*@]{1,64}$/.test(outRefundNo)) {
    c.add('order.outRefundNo', `the refund number (商户退款单号 out_refund_no) must be 1 to 64 letters, digits or _ - | * @ (got ${shown(o.outRefundNo)})`);
  }
  const refundId = text('refundId', ORDER_DEFAULTS.refundId);
  const refund = c.amount(o, 'refund', 'refund amount (退款金额 refund)', total ?? 1);
  if (refund !== undefined && total !== undefined && refund > total) {
    c.add('order.refund', `the refund amount (退款金额 refund) must not exceed the order amount (订单金额 total): ${refund} > ${total} fen`);
  }
  const fields = [outTradeNo, total, openid, transactionId, outRefundNo, refundId, refund];
  if (fields.some((field) => field === undefined) || c.problems.some((p) => p.path.startsWith('order.'))) return undefined;
  return { outTradeNo: must(outTradeNo), total: must(total), openid: must(openid), transactionId: must(transactionId), outRefundNo: must(outRefundNo), refundId: must(refundId), refund: must(refund) };
}

/** Collects problems; each reader returns undefined when it reported one. */
class Checker {
  readonly problems: ConfigProblem[] = [];
  readonly keyFiles: KeyFileRef[] = [];

  constructor(private readonly env: Env) {}

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  object(value: unknown, path: string, fields: FieldTree): Obj | undefined {
    if (!isPlainObject(value)) {
      this.add(path, path === ''
        ? `the config must be an object (a JSON object or YAML mapping) with name, appid, mchid and a v2 or v3 section; got ${typeName(value)}`
        : `expected an object, got ${typeName(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (Object.hasOwn(fields, key)) continue;
      const guess = suggest(key, Object.keys(fields));
      this.add(join(path, key), guess ? `unknown field; did you mean \`${guess}\`?` : `unknown field; expected one of: ${Object.keys(fields).join(', ')}`);
    }
    return value;
  }

  string(o: Obj, parent: string, key: string, opts: { optional?: boolean } = {}): string | undefined {
    const path = join(parent, key);
    const value = o[key];
    const what = WHAT[path];
    if (value === undefined) {
      if (!opts.optional) this.add(path, what ? `is required: ${what}` : 'is required');
      return undefined;
    }
    if (typeof value !== 'string') {
      this.add(path, `expected a string, got ${typeName(value)}${typeof value === 'number' ? '; put the value in quotes' : ''}`);
      return undefined;
    }
    const resolved = this.resolveEnv(value, path);
    if (resolved === undefined) return undefined;
    if (resolved === '') {
      this.add(path, what ? `must not be empty: ${what}` : 'must not be empty; give a value or remove the field');
      return undefined;
    }
    if (resolved.trim() !== resolved) {
      const label = SECRET_LABEL[path];
      this.add(path, label ? `the ${label} has leading or trailing whitespace (a copied line break?); remove it` : 'has leading or trailing whitespace; remove it');
      return undefined;
    }
    return resolved;
  }

  url(o: Obj, parent: string, key: string): string | undefined {
    const value = this.string(o, parent, key);
    if (value === undefined) return undefined;
    let protocol = '';
    try {
      protocol = new URL(value).protocol;
    } catch {
      // reported below
    }
    if (protocol === 'http:' || protocol === 'https:') return value;
    this.add(join(parent, key), `must be an absolute http:// or https:// URL, e.g. "https://shop.example.com/wxpay/notify" (got ${shown(o[key])})`);
    return undefined;
  }

  /** A 32-character API key. Never put the value, or any part of it, in a message. */
  secret(o: Obj, parent: string, key: string): string | undefined {
    const path = join(parent, key);
    const value = this.string(o, parent, key);
    if (value === undefined) return undefined;
    const label = SECRET_LABEL[path] ?? key;
    const length = [...value].length;
    if (length !== 32) {
      this.add(path, `the ${label} must be exactly 32 characters (it has ${length}); copy it again from ${KEY_SOURCE}`);
      return undefined;
    }
    if (!/^[\x21-\x7e]{32}$/.test(value)) {
      this.add(path, `the ${label} must be 32 printable ASCII characters (it has others, e.g. full-width or accented letters); copy it again from ${KEY_SOURCE}`);
      return undefined;
    }
    return value;
  }

  amount(o: Obj, key: string, label: string, fallback: number): number | undefined {
    const path = join('order', key);
    const value = o[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'number') {
      const fix = typeof value === 'string' ? '; write the number without quotes, e.g. 100 for ¥1.00' : '';
      this.add(path, `expected a positive integer amount in fen (分), got ${typeName(value)}${fix}`);
      return undefined;
    }
    if (!Number.isSafeInteger(value) || value <= 0) {
      this.add(path, `the ${label} must be a positive whole number of fen (分), e.g. 100 for ¥1.00 (got ${value})`);
      return undefined;
    }
    return value;
  }

  /** Replace every ${NAME} with env[NAME]; report unset or empty variables by name. */
  private resolveEnv(value: string, path: string): string | undefined {
    const before = this.problems.length;
    let malformed = value.replace(/\$\{[^}]*\}/g, '').includes('${');
    const resolved = value.replace(/\$\{([^}]*)\}/g, (_whole, name: string) => {
      const found = Object.hasOwn(this.env, name) ? this.env[name] : undefined;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        malformed = true;
        return '';
      } else if (found === undefined || found === '') {
        const state = found === undefined ? 'is not set' : 'is empty';
        this.add(path, `environment variable ${name} ${state}; set ${name} or put the value in the config`);
      }
      return found ?? '';
    });
    if (malformed) {
      this.add(path, 'has a `${` that does not start a valid ${NAME} reference; NAME takes letters, digits and _ and does not start with a digit');
    }
    return this.problems.length === before ? resolved : undefined;
  }
}

function isPlainObject(value: unknown): value is Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return isPlainObject(value) ? 'object' : 'a non-JSON value';
  return typeof value;
}

function join(parent: string, key: string): string {
  const part = key.length > 40 ? `${key.slice(0, 37)}...` : key;
  const safe = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(part) ? part : JSON.stringify(part);
  return parent === '' ? safe : `${parent}.${safe}`;
}

/**
 * Short, quoted echo of a non-secret value, as written: ${NAME} references stay unresolved, so a
 * secret read from the environment never reaches a message.
 */
function shown(written: unknown): string {
  const value = String(written);
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

/** The candidate the user most likely meant: same name ignoring case, or a few edits away. */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const exact = candidates.find((c) => c.toLowerCase() === input.toLowerCase());
  if (exact) return exact;
  const limit = Math.min(2, Math.max(1, Math.floor(input.length / 2)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const d = levenshtein(input.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
