import { isIP } from 'node:net';
import { HINTS } from '../judge/causes.js';
import { bareHost, nonPublicHostKind } from './host-kind.js';
import type { Finding, FindingLevel } from './types.js';

/**
 * The notify_url rules (docs/protocol.md#notify_url-rules), as pure checks. Errors: WeChat Pay
 * refuses the URL or can never reach it. Warnings: it may work, but often does not. Findings come in
 * the order a merchant should look: first "is this the URL you meant?", then the rules.
 */

export const MAX_NOTIFY_URL_LENGTH = 256;

export interface LintOptions {
  /** Loopback and private hosts are test servers: a warning instead of an error. */
  allowPrivate: boolean;
}

const DEFAULT_PORT: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

function describeWhitespace(text: string): string {
  const names: string[] = [];
  for (const ch of text) {
    const name =
      ch === ' '
        ? 'space'
        : ch === '\t'
          ? 'tab'
          : ch === '\n' || ch === '\r'
            ? 'line break'
            : ch === '\u3000'
              ? 'full-width space (全角空格)'
              : `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    if (!names.includes(name)) names.push(name);
  }
  return names.join(', ');
}

/** The `host[:port]` part as written, or undefined when there is none. */
function writtenAuthority(url: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#\\]*)/i.exec(url);
  if (!match?.[1]) return undefined;
  const authority = match[1];
  return authority.slice(authority.lastIndexOf('@') + 1);
}

function writtenPort(url: string): string | undefined {
  const authority = writtenAuthority(url);
  if (authority === undefined) return undefined;
  const hostEnd = authority.startsWith('[') ? authority.indexOf(']') + 1 : 0;
  const match = /:(\d*)$/.exec(authority.slice(hostEnd));
  return match ? match[1] : undefined;
}

/** Every rule for one notify URL; a single `ok` finding when it follows them all. */
export function lintNotifyUrl(url: string, opts: LintOptions): Finding[] {
  const findings: Finding[] = [];
  const add = (level: FindingLevel, rule: string, message: string): void =>
    void findings.push({ level, rule, message });
  const trimmed = url.trim();
  if (trimmed === '') {
    add(
      'error',
      'empty',
      'notify_url is empty: give the full https URL of the notify handler, e.g. https://shop.example.com/wxpay/notify',
    );
    return findings;
  }

  // Cause 2: is this exactly the URL you meant? (the URL sent with the order, 下单时的notify_url)
  if (trimmed !== url) {
    const where = [url.startsWith(trimmed) ? '' : 'leading', url.endsWith(trimmed) ? '' : 'trailing']
      .filter(Boolean)
      .join(' and ');
    const chars = describeWhitespace(
      url.slice(0, url.indexOf(trimmed)) + url.slice(url.indexOf(trimmed) + trimmed.length),
    );
    add(
      'error',
      'whitespace',
      `has ${where} whitespace (${chars}): WeChat gets a different URL from the one you meant; trim the value where the order request (下单请求) sets notify_url`,
    );
  }
  if (/\s/u.test(trimmed)) {
    add(
      'error',
      'whitespace',
      `contains whitespace (${describeWhitespace(trimmed.match(/\s/gu)!.join(''))}) inside the URL: remove it; a URL never contains a raw space`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    add(
      'error',
      'absolute-url',
      'is not an absolute URL: write it in full, e.g. https://shop.example.com/wxpay/notify',
    );
    return findings;
  }
  if (/[^\x00-\x7f]/.test(trimmed)) {
    add(
      'error',
      'non-ascii',
      `contains non-ASCII characters: WeChat Pay will not send to them; write the ASCII form (punycode host, percent-encoded path): ${parsed.href}`,
    );
  }
  if (trimmed.includes('\\')) {
    add('error', 'backslash', 'contains a backslash (\\): use forward slashes (/) in the path');
  }
  const rawPath = trimmed.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#\\]*/i, '').replace(/[?#].*$/s, '');
  if (rawPath.includes('//')) {
    add(
      'warning',
      'double-slash',
      `the path ${JSON.stringify(rawPath)} has a doubled slash (//): many servers and WAFs route or reject it differently (often 404); write single slashes, and check how the order request joins the base URL and the path`,
    );
  }

  // Cause 3: the notify_url rules.
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    add(
      'error',
      'scheme',
      `uses ${parsed.protocol.replace(/:$/, '')}://: WeChat Pay calls only https:// URLs; write https://…`,
    );
    return findings;
  }
  if (parsed.protocol === 'http:') {
    add(
      'warning',
      'https',
      'uses http://: WeChat Pay requires https (公网域名必须为https) except on dedicated lines; serve the handler over https with a certificate from a public CA',
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    add(
      'error',
      'credentials',
      'carries a user name or password (user:pass@): WeChat Pay sends no credentials and the handler must not need a login (免登录); remove them and verify the signature instead',
    );
  }
  const queryAt = trimmed.indexOf('?');
  const fragmentAt = trimmed.indexOf('#');
  if (queryAt !== -1 && (fragmentAt === -1 || queryAt < fragmentAt)) {
    add(
      'error',
      'query',
      'has a query string (?…): WeChat Pay does not allow parameters in notify_url (不能携带参数); put the value in the path (e.g. /wxpay/notify/shop-1) or look it up from out_trade_no',
    );
  }
  if (fragmentAt !== -1) {
    add('error', 'fragment', 'has a fragment (#…): it never reaches the server and WeChat Pay rejects it; remove it');
  }
  if (parsed.pathname === '/' || parsed.pathname === '') {
    add(
      'error',
      'path',
      'has no path (a bare domain or "/"): WeChat Pay requires the full path of the handler, e.g. https://shop.example.com/wxpay/notify',
    );
  }
  const host = bareHost(parsed.hostname);
  const hostKind = nonPublicHostKind(parsed.hostname);
  if (hostKind !== undefined) {
    if (opts.allowPrivate)
      add(
        'warning',
        'private-host',
        `the host ${host} is ${hostKind}: fine for a test server (--allow-private), but real WeChat Pay cannot reach it`,
      );
    else add('error', 'private-host', `the host ${host} is ${hostKind}. ${HINTS['private-host']}`);
  } else if (isIP(host)) {
    add(
      'warning',
      'ip-host',
      `the host is a bare IP address (${host}): WeChat's rules speak of a public domain (公网域名), public CAs rarely issue certificates for IPs and ICP filing (备案) is per domain; use a domain name`,
    );
  }
  const port = writtenPort(trimmed);
  if (port !== undefined) {
    const isDefault = port === DEFAULT_PORT[parsed.protocol] || port === '';
    add(
      'warning',
      'port',
      isDefault
        ? `names the port (:${port}) explicitly: it is the default; remove it so the URL reads exactly as WeChat expects`
        : `has a port (:${port}): WeChat Pay may not call URLs with a port (回调地址不支持携带端口号); serve the handler on 443 behind a reverse proxy`,
    );
  }
  const length = Math.max(trimmed.length, parsed.href.length);
  if (length > MAX_NOTIFY_URL_LENGTH) {
    add(
      'warning',
      'length',
      `is ${length} characters long: notify_url is at most ${MAX_NOTIFY_URL_LENGTH} (String(256)); shorten the path`,
    );
  }
  if (findings.length === 0) {
    add(
      'ok',
      'notify-url-rules',
      'follows the notify_url rules: https, full path, no query string, public host, no port, ≤ 256 characters',
    );
  }
  return findings;
}

export type NotifyUrlField = 'v2.notifyUrl' | 'v2.refundNotifyUrl' | 'v3.notifyUrl' | 'v3.refundNotifyUrl';

/** Anything with the config's notify URL fields (a ResolvedConfig, or a raw parsed config). */
export interface NotifyUrlConfig {
  v2?: { notifyUrl?: string; refundNotifyUrl?: string };
  v3?: { notifyUrl?: string; refundNotifyUrl?: string };
}

export interface NotifyUrlEntry {
  field: NotifyUrlField;
  version: 'v2' | 'v3';
  kind: 'payment' | 'refund';
  /** e.g. `v3 payment notify_url (支付结果通知)`. */
  label: string;
  url: string;
}

/** The notify URLs a config names, in config order. */
export function listNotifyUrls(config: NotifyUrlConfig): NotifyUrlEntry[] {
  const entries: NotifyUrlEntry[] = [];
  for (const version of ['v2', 'v3'] as const) {
    const section = config[version];
    for (const kind of ['payment', 'refund'] as const) {
      const key = kind === 'payment' ? 'notifyUrl' : 'refundNotifyUrl';
      const url = section?.[key];
      if (typeof url !== 'string') continue;
      const label = `${version} ${kind} notify_url (${kind === 'payment' ? '支付结果通知' : '退款结果通知'})`;
      entries.push({ field: `${version}.${key}`, version, kind, label, url });
    }
  }
  return entries;
}

function sameUrlKey(url: string): string {
  try {
    return new URL(url.trim()).href;
  } catch {
    return url.trim();
  }
}

/** Rules about the URLs taken together: one URL serving two kinds of notification. */
export function lintConfigUrls(config: NotifyUrlConfig): Finding[] {
  const entries = listNotifyUrls(config);
  const findings: Finding[] = [];
  entries.forEach((a, i) => {
    for (const b of entries.slice(i + 1)) {
      if (sameUrlKey(a.url) !== sameUrlKey(b.url)) continue;
      const both = `${a.field} and ${b.field} are the same URL`;
      if (a.version === b.version) {
        const tell =
          a.version === 'v3'
            ? 'the handler must dispatch on event_type (TRANSACTION.* vs REFUND.*)'
            : 'refund notifications carry an encrypted req_info and no sign, so the handler must detect them before checking sign';
        findings.push({
          level: 'warning',
          rule: 'pay-refund-same',
          message: `${both}: ${tell}; or give refunds their own path, e.g. /wxpay/${a.version}/refund-notify`,
        });
      } else {
        const what = a.kind === b.kind ? '' : ` and both payment and refund notifications`;
        findings.push({
          level: 'warning',
          rule: 'v2-v3-same',
          message: `${both}: one handler then receives v2 XML (text/xml) and v3 JSON (application/json)${what} and must tell them apart before verifying; give each its own path, e.g. /wxpay/v2/notify and /wxpay/v3/notify`,
        });
      }
    }
  });
  return findings;
}
