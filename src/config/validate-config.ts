import { V2_SIGN_TYPES, type V2SignType } from '../protocol/constants.js';
import { Checker, type Env, type KeyFileRef } from './config-checker.js';
import { CONFIG_FIELDS, ORDER_DEFAULTS, SIGNER_FIELDS } from './config-fields.js';
import type { ConfigProblem } from './errors.js';
import { suggest } from './suggest.js';
import type { CombineConfig, OrderConfig, PartnerConfig, PlatformSigner, ResolvedConfig, V2Config, V3Config } from './types.js';

/**
 * Validate a parsed config and resolve its ${ENV} references. Pure: no file access; key files are
 * only named (keyFiles) for loadConfig to read. Returns every problem, each with its field path.
 */

// Re-exported so callers keep importing the config API from one place.
export type { Env, KeyFileRef } from './config-checker.js';
export { CONFIG_FIELDS, ORDER_DEFAULTS, type FieldTree } from './config-fields.js';
export { suggest } from './suggest.js';

/** A config that passed validation; key files are named but not read yet (privateKeyPem is ''). */
export type ValidatedConfig = Omit<ResolvedConfig, 'configDir'>;
export interface ValidationResult {
  /** Present only when there are no problems. */
  config?: ValidatedConfig;
  problems: ConfigProblem[];
  /** Every privateKeyFile that is a valid string, even when other fields have problems. */
  keyFiles: KeyFileRef[];
}

export function validateConfig(raw: unknown, env: Env): ValidationResult {
  const c = new Checker(env);
  c.secrets.push(...configuredSecrets(raw, c));
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
  const combine = root.combine === undefined ? undefined : readCombine(c, root.combine, root.v3 !== undefined);
  const order = readOrder(c, root.order);
  if (c.problems.length > 0) return { problems: c.problems, keyFiles: c.keyFiles };
  const config: ValidatedConfig = { name: must(name), appid: must(appid), mchid: must(mchid), order: must(order) };
  if (v2) config.v2 = v2;
  if (v3) config.v3 = v3;
  if (partner) config.partner = partner;
  if (combine) config.combine = combine;
  return { config, problems: [], keyFiles: c.keyFiles };
}

/** The API keys as configured, before any check: even an invalid one must not be echoed. */
function configuredSecrets(raw: unknown, c: Checker): string[] {
  const section = (name: string): Record<string, unknown> =>
    raw && typeof raw === 'object' && typeof (raw as Record<string, unknown>)[name] === 'object' ? ((raw as Record<string, unknown>)[name] as Record<string, unknown>) ?? {} : {};
  return [section('v2').apiKey, section('v3').apiV3Key]
    .filter((v): v is string => typeof v === 'string')
    .map((v) => c.resolveQuietly(v).trim())
    .filter((v) => v !== '');
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

/** v2 and v3 both start with the two notify URLs and their API key, checked in that order. */
function readSection(c: Checker, value: unknown, section: 'v2' | 'v3', keyField: 'apiKey' | 'apiV3Key') {
  const o = c.object(value, section, CONFIG_FIELDS[section]);
  if (!o) return undefined;
  const notifyUrl = c.url(o, section, 'notifyUrl');
  const refundNotifyUrl = c.url(o, section, 'refundNotifyUrl');
  const key = c.secret(o, section, keyField);
  return { o, notifyUrl, refundNotifyUrl, key };
}

function readV2(c: Checker, value: unknown): V2Config | undefined {
  const section = readSection(c, value, 'v2', 'apiKey');
  if (!section) return undefined;
  const { o, notifyUrl, refundNotifyUrl, key: apiKey } = section;
  let signType: V2SignType | undefined = 'MD5';
  const given = c.string(o, 'v2', 'signType', { optional: true });
  if (given !== undefined) {
    signType = V2_SIGN_TYPES.find((t) => t === given);
    if (!signType) {
      const guess = suggest(given, V2_SIGN_TYPES);
      c.add('v2.signType', `sign type (签名类型 sign_type) must be "MD5" or "HMAC-SHA256" (got ${c.shown(o.signType)}${guess ? `; did you mean "${guess}"?` : ''})`);
    }
  }
  if (notifyUrl === undefined || refundNotifyUrl === undefined || apiKey === undefined || !signType) return undefined;
  return { notifyUrl, refundNotifyUrl, apiKey, signType };
}

function readV3(c: Checker, value: unknown): V3Config | undefined {
  const section = readSection(c, value, 'v3', 'apiV3Key');
  if (!section) return undefined;
  const { o, notifyUrl, refundNotifyUrl, key: apiV3Key } = section;
  if (o.platform === undefined && o.platformCertificate === undefined) {
    c.add('v3.platform', `or v3.platformCertificate is required: the simulated WeChat Pay signer your test server trusts. Public key only (微信支付公钥): v3.platform with a PUB_KEY_ID_… serial; certificate only (平台证书): v3.platformCertificate with the hex serial; both for the switch-over. \`wxpay-notify init --key-mode public-key|certificate|both\` writes the one you need`);
  }
  const platform = o.platform === undefined ? undefined : readSigner(c, o.platform, 'v3.platform');
  const certificate = o.platformCertificate === undefined ? undefined : readSigner(c, o.platformCertificate, 'v3.platformCertificate');
  if (notifyUrl === undefined || refundNotifyUrl === undefined || apiV3Key === undefined || (!platform && !certificate)) return undefined;
  if ((o.platform !== undefined && !platform) || (o.platformCertificate !== undefined && !certificate)) return undefined;
  const v3: V3Config = { notifyUrl, refundNotifyUrl, apiV3Key };
  if (platform) v3.platform = platform;
  if (certificate) v3.platformCertificate = certificate;
  return v3;
}

function readSigner(c: Checker, value: unknown, path: string): PlatformSigner | undefined {
  const o = c.object(value, path, SIGNER_FIELDS);
  if (!o) return undefined;
  const privateKeyFile = c.string(o, path, 'privateKeyFile');
  if (privateKeyFile !== undefined) c.keyFiles.push({ path: `${path}.privateKeyFile`, file: privateKeyFile, written: String(o.privateKeyFile) });
  let serial = c.string(o, path, 'serial');
  if (serial !== undefined && path === 'v3.platform' && /^[0-9A-Fa-f:]{16,}$/.test(serial)) {
    c.add(`${path}.serial`, 'looks like a platform certificate serial (平台证书序列号), but v3.platform is the WeChat Pay public key (微信支付公钥, serial PUB_KEY_ID_…); for a certificate-only set-up move this signer to `v3.platformCertificate`');
    serial = undefined;
  }
  if (serial !== undefined && path === 'v3.platformCertificate') {
    const hex = serial.replace(/:/g, '');
    if (serial.startsWith('PUB_KEY_ID_')) {
      c.add(`${path}.serial`, 'is a WeChat Pay public-key ID (微信支付公钥ID), not a certificate serial; put it in `v3.platform.serial`, and here the hex serial number of the platform certificate (平台证书序列号)');
      serial = undefined;
    } else if (!/^[0-9A-Fa-f]+$/.test(hex)) {
      c.add(`${path}.serial`, `the platform certificate serial (平台证书序列号) must be hexadecimal, e.g. "5157F09EFDC096DE15EBE81A47057A7232F1B8E1" (got ${c.shown(o.serial)})`);
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

function readCombine(c: Checker, value: unknown, hasV3: boolean): CombineConfig | undefined {
  const o = c.object(value, 'combine', CONFIG_FIELDS.combine);
  if (!o) return undefined;
  if (!hasV3) c.add('combine', 'the combined payment (合单支付) notification is a v3 one: add a `v3` section, or remove `combine`');
  if (o.subMchids === undefined) return {};
  const list = o.subMchids;
  if (!Array.isArray(list) || list.length !== 2) {
    c.add('combine.subMchids', `the combined payment case sends two sub-orders (子单): give two merchant IDs, e.g. ["1900000109", "1900000110"] (got ${Array.isArray(list) ? `${list.length} ${list.length === 1 ? 'entry' : 'entries'}` : c.shown(list)})`);
    return undefined;
  }
  const [first, second] = list as unknown[];
  const bad = [first, second].map((id, i) => (typeof id === 'string' && id.trim() !== '' ? undefined : i)).filter((i) => i !== undefined);
  for (const i of bad) c.add(`combine.subMchids[${i}]`, `expected a merchant ID (商户号) as a non-empty string, e.g. "1900000110" (got ${c.shown(list[i])}); put numbers in quotes`);
  if (bad.length > 0) return undefined;
  return { subMchids: [String(first), String(second)] };
}

function readOrder(c: Checker, value: unknown): OrderConfig | undefined {
  const o = value === undefined ? {} : c.object(value, 'order', CONFIG_FIELDS.order);
  if (!o) return undefined;
  const text = (key: string, fallback: string): string | undefined =>
    o[key] === undefined ? fallback : c.string(o, 'order', key, { optional: true });
  const outTradeNo = text('outTradeNo', ORDER_DEFAULTS.outTradeNo);
  if (outTradeNo !== undefined && o.outTradeNo !== undefined && !/^[A-Za-z0-9_\-|*]{6,32}$/.test(outTradeNo)) {
    c.add('order.outTradeNo', `the order number (商户订单号 out_trade_no) must be 6 to 32 letters, digits or _ - | * (got ${c.shown(o.outTradeNo)})`);
  }
  const total = c.amount(o, 'total', 'order amount (订单金额 total)', ORDER_DEFAULTS.total);
  const openid = text('openid', ORDER_DEFAULTS.openid);
  const transactionId = text('transactionId', ORDER_DEFAULTS.transactionId);
  const outRefundNo = text('outRefundNo', outTradeNo === undefined ? '' : `R${outTradeNo.slice(1)}`);
  if (outRefundNo !== undefined && o.outRefundNo !== undefined && !/^[A-Za-z0-9_\-|*@]{1,64}$/.test(outRefundNo)) {
    c.add('order.outRefundNo', `the refund number (商户退款单号 out_refund_no) must be 1 to 64 letters, digits or _ - | * @ (got ${c.shown(o.outRefundNo)})`);
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
