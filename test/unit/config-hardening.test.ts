import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate-config.js';

/**
 * Config values a user did not mean: a control character smuggled into a URL through ${ENV} (it
 * would be written into the environment file), and an API key pasted into the wrong field (the
 * error message quoting that field must not print the key).
 */
const V2_KEY = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';
const V3_KEY = 'Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4';

function v2Config(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'shop',
    appid: 'wx2421b1c4370ec43b',
    mchid: '1900000109',
    v2: { notifyUrl: 'https://a.example/n', refundNotifyUrl: 'https://a.example/r', apiKey: V2_KEY, ...overrides },
  };
}

const messages = (raw: unknown, env: Record<string, string> = {}): string =>
  validateConfig(raw, env)
    .problems.map((p) => `${p.path}: ${p.message}`)
    .join('\n');

describe('URLs with control characters', () => {
  it.each([
    ['a line break', 'https://a.example/notify\nX-Injected: 1'],
    ['a carriage return', 'https://a.example/no\rtify'],
    ['a tab', 'https://a.example/no\ttify'],
    ['an escape', 'https://a.example/\u001b[31mnotify'],
    ['a NUL', 'https://a.example/notify\u0000'],
    ['a DEL', 'https://a.example/notify\u007f'],
  ])('refuses %s read from ${ENV}, without echoing the value', (_what, url) => {
    const result = validateConfig(v2Config({ notifyUrl: '${NOTIFY_URL}' }), { NOTIFY_URL: url });
    expect(result.config).toBeUndefined();
    const problem = result.problems.find((p) => p.path === 'v2.notifyUrl');
    expect(problem?.message).toMatch(/control character/);
    expect(problem?.message).not.toContain('a.example');
  });

  it('refuses one written into the config as an escape', () => {
    expect(messages(v2Config({ refundNotifyUrl: 'https://a.example/r\n' }))).toMatch(
      /^v2\.refundNotifyUrl: .*(control character|whitespace)/m,
    );
    expect(messages(v2Config({ refundNotifyUrl: 'https://a.example/r\u0007x' }))).toMatch(
      /^v2\.refundNotifyUrl: .*control character/m,
    );
  });

  it('accepts an ordinary URL from ${ENV}', () => {
    expect(
      validateConfig(v2Config({ notifyUrl: '${NOTIFY_URL}' }), { NOTIFY_URL: 'https://a.example/notify' }).problems,
    ).toEqual([]);
  });
});

describe('a secret typed into a non-secret field is never echoed', () => {
  it('the APIv2 key as the sign type', () => {
    const text = messages(v2Config({ signType: V2_KEY }));
    expect(text).toMatch(/^v2\.signType: /m);
    expect(text).not.toContain(V2_KEY);
  });

  it('the APIv2 key, from ${ENV}, typed literally into the order number', () => {
    const raw = { ...v2Config({ apiKey: '${K}' }), order: { outTradeNo: `${V2_KEY}-x` } };
    const text = messages(raw, { K: V2_KEY });
    expect(text).toMatch(/^order\.outTradeNo: /m);
    expect(text).not.toContain(V2_KEY);
  });

  it('the APIv3 key inside a long value, where the quoted value is cut short', () => {
    const raw = {
      ...v2Config(),
      v3: {
        notifyUrl: 'https://a.example/v3',
        refundNotifyUrl: 'https://a.example/v3r',
        apiV3Key: V3_KEY,
        platform: { privateKeyFile: 'k.pem', serial: 'PUB_KEY_ID_1' },
        platformCertificate: { privateKeyFile: 'k.pem', serial: `${'x'.repeat(40)}${V3_KEY}` },
      },
    };
    const text = messages(raw);
    expect(text).toMatch(/^v3\.platformCertificate\.serial: /m);
    // Not even the part that fits before the cut.
    expect(text).not.toContain(V3_KEY.slice(0, 10));
  });

  it('an invalid key (wrong length) pasted into a URL field is not echoed either', () => {
    const shortKey = 'k3y-0f-31-characters-abcdefghij';
    const text = messages(v2Config({ apiKey: shortKey, notifyUrl: shortKey }));
    expect(text).toMatch(/^v2\.notifyUrl: /m);
    expect(text).not.toContain(shortKey);
  });
});

describe('values no notification can carry as written', () => {
  it('a {{variable}} in a notify URL: Postman and Bruno would resolve it, so the message says to percent-encode', () => {
    expect(messages(v2Config({ notifyUrl: 'https://a.example/{{v2_api_key}}' }))).toBe(
      'v2.notifyUrl: must not contain { or }: write them as %7B and %7D (got "https://a.example/{{v2_api_key}}")',
    );
  });

  it('U+FFFF or a lone surrogate: named by code point, the value not echoed', () => {
    expect(messages({ ...v2Config(), appid: 'wx\uffff' })).toBe(
      'appid: contains U+FFFF, which no notification can carry (not a character of XML or UTF-8); remove it',
    );
    expect(messages({ ...v2Config(), mchid: '19\ud800' })).toBe(
      'mchid: contains U+D800, which no notification can carry (not a character of XML or UTF-8); remove it',
    );
  });

  it('a public-key serial that is not a header value', () => {
    const raw = {
      ...v2Config(),
      v3: {
        notifyUrl: 'https://a.example/n',
        refundNotifyUrl: 'https://a.example/r',
        apiV3Key: V3_KEY,
        platform: { privateKeyFile: 'k.pem', serial: 'PUB_KEY_ID_{{x}}' },
      },
    };
    expect(messages(raw)).toMatch(
      /^v3\.platform\.serial: is sent in the Wechatpay-Serial header: use visible ASCII without spaces, \{ or \}/m,
    );
  });
});
