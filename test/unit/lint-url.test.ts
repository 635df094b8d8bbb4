import { describe, expect, it } from 'vitest';
import { lintConfigUrls, lintNotifyUrl, listNotifyUrls, MAX_NOTIFY_URL_LENGTH } from '../../src/doctor/lint-url.js';
import { nonPublicAddressKind, nonPublicHostKind } from '../../src/doctor/host-kind.js';
import type { Finding } from '../../src/doctor/types.js';

const GOOD = 'https://shop.example.com/wxpay/v3/notify';
const prod = { allowPrivate: false };
const test = { allowPrivate: true };

const rules = (findings: Finding[]): string[] => findings.map((f) => `${f.level}:${f.rule}`);
const find = (findings: Finding[], rule: string): Finding | undefined => findings.find((f) => f.rule === rule);

describe('lintNotifyUrl', () => {
  it('passes a correct notify_url with a single ok finding', () => {
    const findings = lintNotifyUrl(GOOD, prod);
    expect(findings).toEqual([
      { level: 'ok', rule: 'notify-url-rules', message: expect.stringContaining('follows the notify_url rules') },
    ]);
  });

  // Cause 2: the URL sent with the order differs from the one meant.
  it.each([
    ['trailing space', `${GOOD} `, 'trailing', 'space'],
    ['leading tab', `\t${GOOD}`, 'leading', 'tab'],
    ['copied line break', `${GOOD}\n`, 'trailing', 'line break'],
    ['full-width space', `${GOOD}\u3000`, 'trailing', '全角空格'],
  ])('errors on %s', (_name, url, where, what) => {
    const finding = find(lintNotifyUrl(url, prod), 'whitespace');
    expect(finding?.level).toBe('error');
    expect(finding?.message).toContain(where);
    expect(finding?.message).toContain(what);
    expect(finding?.message).toContain('trim');
  });

  it('errors on whitespace inside the URL', () => {
    const finding = find(lintNotifyUrl('https://shop.example.com/wxpay/v3 notify', prod), 'whitespace');
    expect(finding).toMatchObject({ level: 'error', message: expect.stringContaining('inside the URL') });
  });

  it('warns on a doubled slash in the path, not on the one after the scheme', () => {
    const findings = lintNotifyUrl('https://shop.example.com//wxpay/v3/notify', prod);
    expect(rules(findings)).toEqual(['warning:double-slash']);
    expect(findings[0]!.message).toContain('"//wxpay/v3/notify"');
    expect(rules(lintNotifyUrl('https://shop.example.com/wxpay//notify', prod))).toEqual(['warning:double-slash']);
  });

  it('errors on a backslash', () => {
    expect(rules(lintNotifyUrl('https://shop.example.com/wxpay\\notify', prod))).toContain('error:backslash');
  });

  it('errors on non-ASCII host or path, naming the punycode / percent-encoded form', () => {
    const host = find(lintNotifyUrl('https://商店.example.com/wxpay/notify', prod), 'non-ascii');
    expect(host?.level).toBe('error');
    expect(host?.message).toContain('https://xn--');
    const path = find(lintNotifyUrl('https://shop.example.com/支付/回调', prod), 'non-ascii');
    expect(path?.level).toBe('error');
    expect(path?.message).toContain('/%E6%94%AF%E4%BB%98/');
    expect(path?.message).toContain('WeChat Pay will not send');
  });

  // Cause 3: the rules.
  it('errors on an empty or relative URL and on a non-http scheme', () => {
    expect(rules(lintNotifyUrl('', prod))).toEqual(['error:empty']);
    expect(rules(lintNotifyUrl('   ', prod))).toEqual(['error:empty']);
    expect(rules(lintNotifyUrl('/wxpay/notify', prod))).toEqual(['error:absolute-url']);
    expect(rules(lintNotifyUrl('shop.example.com/wxpay/notify', prod))).toEqual(['error:absolute-url']);
    expect(rules(lintNotifyUrl('ftp://shop.example.com/wxpay/notify', prod))).toEqual(['error:scheme']);
  });

  it('warns on http (https required)', () => {
    const findings = lintNotifyUrl('http://shop.example.com/wxpay/notify', prod);
    expect(rules(findings)).toEqual(['warning:https']);
    expect(findings[0]!.message).toContain('https');
  });

  it('errors on a query string, even an empty one', () => {
    expect(rules(lintNotifyUrl(`${GOOD}?shop=1`, prod))).toEqual(['error:query']);
    expect(rules(lintNotifyUrl(`${GOOD}?`, prod))).toEqual(['error:query']);
    expect(find(lintNotifyUrl(`${GOOD}?shop=1`, prod), 'query')!.message).toContain('不能携带参数');
  });

  it('errors on a fragment, and a # does not hide a query check', () => {
    expect(rules(lintNotifyUrl(`${GOOD}#x`, prod))).toEqual(['error:fragment']);
    expect(rules(lintNotifyUrl(`${GOOD}#x?y`, prod))).toEqual(['error:fragment']);
  });

  it('errors on a missing path (bare domain or "/")', () => {
    expect(rules(lintNotifyUrl('https://shop.example.com', prod))).toEqual(['error:path']);
    expect(rules(lintNotifyUrl('https://shop.example.com/', prod))).toEqual(['error:path']);
  });

  it('errors on credentials in the URL', () => {
    expect(rules(lintNotifyUrl('https://user:pw@shop.example.com/wxpay/notify', prod))).toEqual(['error:credentials']);
  });

  it.each([
    ['http://localhost/wxpay/notify', 'localhost'],
    ['http://127.0.0.1/wxpay/notify', 'loopback'],
    ['http://[::1]/wxpay/notify', 'loopback'],
    ['https://10.1.2.3/wxpay/notify', 'private'],
    ['https://172.20.0.5/wxpay/notify', 'private'],
    ['https://192.168.1.10/wxpay/notify', 'private'],
    ['https://169.254.169.254/wxpay/notify', 'link-local'],
    ['https://[fe80::1]/wxpay/notify', 'link-local'],
    ['https://[fd12:3456::1]/wxpay/notify', 'unique-local'],
    ['https://[::ffff:192.168.0.1]/wxpay/notify', 'private'],
    ['https://100.64.0.1/wxpay/notify', 'carrier-grade NAT'],
    ['https://0x7f.1/wxpay/notify', 'loopback'],
    ['https://printer.local/wxpay/notify', 'internal name'],
    ['https://intranet/wxpay/notify', 'single-label'],
  ])('errors on the non-public host of %s, a warning with --allow-private', (url, kind) => {
    const error = find(lintNotifyUrl(url, prod), 'private-host');
    expect(error?.level).toBe('error');
    expect(error?.message).toContain(kind);
    expect(error?.message).toContain('--allow-private');
    const warning = find(lintNotifyUrl(url, test), 'private-host');
    expect(warning?.level).toBe('warning');
    expect(warning?.message).toContain('test server');
  });

  it('warns on a public IP host', () => {
    expect(rules(lintNotifyUrl('https://203.0.114.7/wxpay/notify', prod))).toEqual(['warning:ip-host']);
    expect(rules(lintNotifyUrl('https://[2400:3200::1]/wxpay/notify', prod))).toEqual(['warning:ip-host']);
  });

  it('warns on an explicit port, even the default one', () => {
    const custom = find(lintNotifyUrl('https://shop.example.com:8443/wxpay/notify', prod), 'port');
    expect(custom).toMatchObject({ level: 'warning', message: expect.stringContaining(':8443') });
    const explicitDefault = find(lintNotifyUrl('https://shop.example.com:443/wxpay/notify', prod), 'port');
    expect(explicitDefault).toMatchObject({ level: 'warning', message: expect.stringContaining('default') });
    expect(find(lintNotifyUrl('https://[2400:3200::1]:8443/wxpay/notify', prod), 'port')?.level).toBe('warning');
    expect(find(lintNotifyUrl('https://[2400:3200::1]/wxpay/notify', prod), 'port')).toBeUndefined();
  });

  it(`warns above ${MAX_NOTIFY_URL_LENGTH} characters`, () => {
    const base = 'https://shop.example.com/';
    const exact = base + 'a'.repeat(MAX_NOTIFY_URL_LENGTH - base.length);
    expect(rules(lintNotifyUrl(exact, prod))).toEqual(['ok:notify-url-rules']);
    const long = find(lintNotifyUrl(`${exact}b`, prod), 'length');
    expect(long).toMatchObject({ level: 'warning', message: expect.stringContaining('257 characters') });
  });

  it('reports every problem at once, URL-as-sent problems first', () => {
    const findings = lintNotifyUrl(' http://localhost:8080//notify?x=1 ', prod);
    expect(rules(findings)).toEqual([
      'error:whitespace',
      'warning:double-slash',
      'warning:https',
      'error:query',
      'error:private-host',
      'warning:port',
    ]);
  });
});

describe('host classification', () => {
  it('knows public addresses from non-public ones', () => {
    expect(nonPublicAddressKind('8.8.8.8')).toBeUndefined();
    expect(nonPublicAddressKind('172.32.0.1')).toBeUndefined();
    expect(nonPublicAddressKind('2400:3200::1')).toBeUndefined();
    expect(nonPublicAddressKind('172.31.255.255')).toContain('private');
    expect(nonPublicAddressKind('::')).toContain('unspecified');
    expect(nonPublicHostKind('shop.example.com')).toBeUndefined();
    expect(nonPublicHostKind('api.localhost')).toContain('localhost');
  });
});

describe('lintConfigUrls', () => {
  const v2 = {
    notifyUrl: 'https://shop.example.com/wxpay/v2/notify',
    refundNotifyUrl: 'https://shop.example.com/wxpay/v2/refund',
  };
  const v3 = {
    notifyUrl: 'https://shop.example.com/wxpay/v3/notify',
    refundNotifyUrl: 'https://shop.example.com/wxpay/v3/refund',
  };

  it('finds nothing when every URL is distinct', () => {
    expect(lintConfigUrls({ v2, v3 })).toEqual([]);
  });

  it('warns when v2 and v3 share the payment URL (XML vs JSON)', () => {
    const findings = lintConfigUrls({ v2: { ...v2, notifyUrl: v3.notifyUrl }, v3 });
    expect(rules(findings)).toEqual(['warning:v2-v3-same']);
    expect(findings[0]!.message).toContain('v2.notifyUrl and v3.notifyUrl');
    expect(findings[0]!.message).toContain('XML');
    expect(findings[0]!.message).toContain('JSON');
  });

  it('warns when payment and refund share a URL, per version', () => {
    const findings = lintConfigUrls({
      v2: { ...v2, refundNotifyUrl: v2.notifyUrl },
      v3: { ...v3, refundNotifyUrl: `${v3.notifyUrl} ` },
    });
    expect(rules(findings)).toEqual(['warning:pay-refund-same', 'warning:pay-refund-same']);
    expect(findings[0]!.message).toContain('req_info');
    expect(findings[1]!.message).toContain('event_type');
  });

  it('lists the URLs of a config-like object with labels', () => {
    expect(listNotifyUrls({ v3 }).map((e) => [e.field, e.version, e.kind])).toEqual([
      ['v3.notifyUrl', 'v3', 'payment'],
      ['v3.refundNotifyUrl', 'v3', 'refund'],
    ]);
    expect(listNotifyUrls({ v3 })[0]!.label).toContain('支付结果通知');
  });
});
