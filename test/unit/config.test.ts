import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { ConfigError, EXIT, UserError, exitCodeFor, type ConfigProblem } from '../../src/shared/errors.js';
import { loadConfig } from '../../src/config/load-config.js';
import { defaultConfigFile } from '../../src/config/config-file-name.js';
import { parseConfigText } from '../../src/config/parse-config-text.js';
import { CONFIG_FIELDS, validateConfig, type FieldTree } from '../../src/config/validate-config.js';
import { fakePem, pemHeader } from '../support/fake-pem.js';
import { seededRandom } from '../support/seeded-random.js';

const V2_KEY = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';
const V3_KEY = 'Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4';
const ENV = { WXPAY_V2_API_KEY: V2_KEY, WXPAY_V3_API_KEY: V3_KEY };
const here = dirname(fileURLToPath(import.meta.url));

type Json = Record<string, unknown>;

/** A complete valid config; key files are relative to the config's folder (tmp). */
function validConfig(): Json {
  return {
    $schema: '../src/config/schema.json',
    name: 'acme-shop',
    appid: 'wx2421b1c4370ec43b',
    mchid: '1900000109',
    v2: {
      notifyUrl: 'https://shop.example.com/wxpay/v2/notify',
      refundNotifyUrl: 'https://shop.example.com/wxpay/v2/refund-notify',
      apiKey: '${WXPAY_V2_API_KEY}',
      signType: 'HMAC-SHA256',
    },
    v3: {
      notifyUrl: 'https://shop.example.com/wxpay/v3/notify',
      refundNotifyUrl: 'https://shop.example.com/wxpay/v3/refund-notify',
      apiV3Key: '${WXPAY_V3_API_KEY}',
      platform: { privateKeyFile: 'keys/rsa2048.pem', serial: 'PUB_KEY_ID_0100TEST0000000000000000000001' },
      platformCertificate: { privateKeyFile: 'keys/rsa2048-pkcs1.pem', serial: '51:57:f0:9e:fd:c0' },
    },
    partner: {
      spAppid: 'wx8888888888888888',
      spMchid: '1230000109',
      subAppid: 'wxd678efh567hg6999',
      subMchid: '1900000109',
    },
    order: { outTradeNo: 'T20261127000001', total: 100, openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  };
}

function minimalV2(): Json {
  return {
    name: 'shop',
    appid: 'wx2421b1c4370ec43b',
    mchid: '1900000109',
    v2: { notifyUrl: 'https://a.example/n', refundNotifyUrl: 'https://a.example/r', apiKey: V2_KEY },
  };
}

function problemsOf(raw: unknown, env: Record<string, string | undefined> = ENV): ConfigProblem[] {
  return validateConfig(raw, env).problems;
}

/** The one problem at `path` (fails when there is none or more than one). */
function problemAt(raw: unknown, path: string, env: Record<string, string | undefined> = ENV): string {
  const found = problemsOf(raw, env).filter((p) => p.path === path);
  expect(found, `problems at ${path}`).toHaveLength(1);
  return found[0]?.message ?? '';
}

function withChange(change: (c: Json) => void, base: () => Json = validConfig): Json {
  const config = base();
  change(config);
  return config;
}

const section = (config: Json, name: string): Json => config[name] as Json;

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'wxpay-config-'));
  mkdirSync(join(tmp, 'keys'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const files: Record<string, string> = {
    'rsa2048.pem': rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    'rsa2048-pkcs1.pem': rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
    'rsa1024.pem': small.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    'ec.pem': ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    'encrypted.pem': rsa.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'pw',
    }) as string,
    'encrypted-pkcs1.pem': rsa.privateKey.export({
      type: 'pkcs1',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'pw',
    }) as string,
    'public.pem': rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    'garbage.pem': 'this is not a key\n',
    'broken.pem': fakePem('AAAA'),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp, 'keys', name), text);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
function writeConfig(content: Json | string, ext = '.json', dir = tmp): string {
  counter += 1;
  const file = join(dir, `config-${counter}${ext}`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

async function loadError(file: string, env: Record<string, string | undefined> = ENV): Promise<ConfigError> {
  const error: unknown = await loadConfig(file, env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('errors', () => {
  it('formats one line per problem and maps errors to exit codes', () => {
    const error = new ConfigError('shop.json', [
      { path: 'v2.apiKey', message: 'is required' },
      { path: '', message: 'the file is empty' },
    ]);
    expect(error.message).toBe('shop.json: v2.apiKey: is required\nshop.json: the file is empty');
    expect(error).toBeInstanceOf(UserError);
    expect(error.code).toBe('E_CONFIG');
    expect(error.exitCode).toBe(2);
    expect(exitCodeFor(error)).toBe(EXIT.usage);
    expect(exitCodeFor(new UserError('bad flag'))).toBe(2);
    expect(exitCodeFor(new TypeError('bug'))).toBe(EXIT.internal);
    expect(EXIT).toEqual({ ok: 0, failed: 1, usage: 2, internal: 3 });
  });
});

describe('parseConfigText', () => {
  it('parses plain JSON', () => {
    expect(parseConfigText(JSON.stringify(validConfig()), 'c.json')).toEqual(validConfig());
  });

  it('parses JSONC: comments, trailing commas, and // or /* inside strings left alone', () => {
    const text = `\uFEFF{
      // collection name
      "name": "acme-shop", /* block
      comment */
      "url": "https://shop.example.com/a//b/*c*/", // a URL with // inside
      "quote": "say \\"hi\\" // not a comment",
      "list": [1, 2, 3,],
      "nested": { "a": "\\u4e2d\\n", },
    }`;
    expect(parseConfigText(text, 'c.jsonc')).toEqual({
      name: 'acme-shop',
      url: 'https://shop.example.com/a//b/*c*/',
      quote: 'say "hi" // not a comment',
      list: [1, 2, 3],
      nested: { a: '中\n' },
    });
  });

  it('parses YAML', () => {
    const text = '# comment\nname: acme-shop\nmchid: "1900000109"\norder:\n  total: 100\n';
    expect(parseConfigText(text, 'c.yaml')).toEqual({ name: 'acme-shop', mchid: '1900000109', order: { total: 100 } });
    expect(parseConfigText(toYaml(validConfig()), 'c.yml')).toEqual(validConfig());
  });

  it.each([
    ['{\n  "a": 1\n  "b": 2\n}', 'invalid JSON at line 3, column 3: expected `,` here (a missing comma?)'],
    ['{\n  /* open', 'invalid JSON at line 2, column 3: this /* comment is never closed with */'],
    [
      "{ 'a': 1 }",
      'invalid JSON at line 1, column 3: unexpected text here; a value is a number, a "string" in double quotes, true, false, null, { } or [ ] (JSON strings use double quotes)',
    ],
    ['{ "a": }', 'invalid JSON at line 1, column 8: expected a value'],
    ['{ "a" 1 }', 'invalid JSON at line 1, column 7: expected `:` after the property name'],
    ['{ "a": 1,, }', 'invalid JSON at line 1, column 10: expected a property name in double quotes or `}`'],
    ['{ "a": 1, "a": 2 }', 'invalid JSON at line 1, column 11: property "a" appears twice in this object; keep one'],
    ['[1, 2', 'invalid JSON at line 1, column 6: expected `,` or `]` after an array element (a missing comma?)'],
    [
      '{ "p": "C:\\keys" }',
      'invalid JSON at line 1, column 8: invalid escape in string; a backslash must be written as \\\\ (e.g. in Windows paths) or use /',
    ],
    ['{ "p": "\\u12" }', 'invalid JSON at line 1, column 8: `\\u` must be followed by 4 hex digits'],
    ['['.repeat(200), 'invalid JSON at line 1, column 101: nested more than 100 levels deep'],
    [
      '{ "a": "x\ny" }',
      'invalid JSON at line 1, column 8: this string is never closed with `"` on its line (a string cannot span lines; write \\n for a line break)',
    ],
    [
      '{ "a": "x\ty" }',
      'invalid JSON at line 1, column 8: a string cannot contain a control character (a tab or other); write it escaped, e.g. \\t',
    ],
    ['// only a comment', 'invalid JSON at line 1, column 18: expected a value'],
    ['   ', 'the file is empty; run `wxpay-notify init` to create a config'],
  ])('names line and column of a JSON error: %j', (text, message) => {
    expect(() => parseConfigText(text, 'c.json')).toThrow(ConfigError);
    try {
      parseConfigText(text, 'c.json');
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([{ path: '', message }]);
      expect((error as ConfigError).message).toBe(`c.json: ${message}`);
    }
  });

  it('never quotes the source in a JSON error (a key could be in it)', () => {
    for (const text of [`{"apiKey": "${V2_KEY}`, `{"apiKey": "${V2_KEY}\n"}`, `{"apiKey": ${V2_KEY}}`]) {
      expect(() => parseConfigText(text, 'c.json')).toThrow(ConfigError);
      try {
        parseConfigText(text, 'c.json');
      } catch (error) {
        expect((error as Error).message).not.toContain(V2_KEY.slice(0, 8));
      }
    }
  });

  it('names line and column of a YAML error', () => {
    const run = (text: string): string => {
      try {
        parseConfigText(text, 'c.yaml');
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems[0]?.message ?? '';
      }
      return 'no error';
    };
    expect(run('name: a\nname: b\n')).toBe(
      'invalid YAML at line 2, column 1: this key appears twice in the same mapping; keep one',
    );
    expect(run('a: 1\n---\nb: 2\n')).toBe(
      'invalid YAML at line 2, column 1: the file holds more than one YAML document (`---`); keep a single config',
    );
    expect(run('v2:\n  apiKey: "abc\n')).toBe('invalid YAML at line 3, column 1: Missing closing "quote');
    expect(run('a: *missing\n')).toBe(
      'invalid YAML: an alias (`*name`) must refer to an anchor (`&name`) defined before it, and aliases must not expand too far',
    );
    expect(run('a:\n  b: 1\n c: 2\n')).toBe(
      'invalid YAML at line 3, column 1: wrong indentation; the keys of one mapping must start in the same column',
    );
    expect(run(`v2: { apiKey: "${V2_KEY}" ] }\n`)).not.toContain(V2_KEY.slice(0, 8));
    expect(run(`v2:\n  apiKey: |x ${V2_KEY}\n    y\n`)).not.toContain(V2_KEY.slice(0, 8));
  });

  it('rejects other file extensions with a UserError', () => {
    expect(() => parseConfigText('{}', 'config.toml')).toThrow(UserError);
    expect(() => parseConfigText('{}', 'config.toml')).toThrow(
      'a config file must end in .jsonc, .json, .yaml or .yml (got ".toml")',
    );
  });

  it('keeps a "__proto__" key an ordinary (unknown) field', () => {
    const raw = parseConfigText('{ "__proto__": { "polluted": 1 } }', 'c.json');
    expect(Object.getPrototypeOf(raw)).toBe(Object.prototype);
    expect(({} as Json).polluted).toBeUndefined();
    expect(problemsOf(raw).map((p) => p.path)).toContain('__proto__');
  });
});

describe('validateConfig', () => {
  it('accepts a full config, resolves ${ENV} and normalises the certificate serial', () => {
    const { config, problems, keyFiles } = validateConfig(validConfig(), ENV);
    expect(problems).toEqual([]);
    expect(config?.v2).toEqual({
      notifyUrl: 'https://shop.example.com/wxpay/v2/notify',
      refundNotifyUrl: 'https://shop.example.com/wxpay/v2/refund-notify',
      apiKey: V2_KEY,
      signType: 'HMAC-SHA256',
    });
    expect(config?.v3?.apiV3Key).toBe(V3_KEY);
    expect(config?.v3?.platform).toEqual({
      privateKeyFile: 'keys/rsa2048.pem',
      privateKeyPem: '',
      serial: 'PUB_KEY_ID_0100TEST0000000000000000000001',
    });
    expect(config?.v3?.platformCertificate?.serial).toBe('5157F09EFDC0');
    expect(config?.partner).toEqual({
      spAppid: 'wx8888888888888888',
      spMchid: '1230000109',
      subAppid: 'wxd678efh567hg6999',
      subMchid: '1900000109',
    });
    expect(keyFiles).toEqual([
      { path: 'v3.platform.privateKeyFile', file: 'keys/rsa2048.pem', written: 'keys/rsa2048.pem' },
      {
        path: 'v3.platformCertificate.privateKeyFile',
        file: 'keys/rsa2048-pkcs1.pem',
        written: 'keys/rsa2048-pkcs1.pem',
      },
    ]);
    expect(config?.order).toEqual({
      outTradeNo: 'T20261127000001',
      total: 100,
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      transactionId: '4200000000000000000000000001',
      outRefundNo: 'R20261127000001',
      refundId: '50000000000000000000000000001',
      refund: 100,
    });
  });

  it('fills defaults: signType MD5 and the whole order', () => {
    const { config, problems } = validateConfig(minimalV2(), {});
    expect(problems).toEqual([]);
    expect(config?.v2?.signType).toBe('MD5');
    expect(config?.v3).toBeUndefined();
    expect(config?.partner).toBeUndefined();
    expect(config?.order).toEqual({
      outTradeNo: 'T20260101000001',
      total: 100,
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      transactionId: '4200000000000000000000000001',
      outRefundNo: 'R20260101000001',
      refundId: '50000000000000000000000000001',
      refund: 100,
    });
  });

  it('resolves ${NAME} embedded in a string, and reports unset or empty variables by name', () => {
    const raw = withChange((c) => {
      section(c, 'v2').notifyUrl = 'https://${HOST}/wxpay/${ENV_NAME}/notify';
    });
    const { config } = validateConfig(raw, { ...ENV, HOST: 'shop.example.com', ENV_NAME: 'test' });
    expect(config?.v2?.notifyUrl).toBe('https://shop.example.com/wxpay/test/notify');
    expect(problemAt(validConfig(), 'v2.apiKey', { WXPAY_V3_API_KEY: V3_KEY })).toBe(
      'environment variable WXPAY_V2_API_KEY is not set; set WXPAY_V2_API_KEY or put the value in the config',
    );
    expect(problemAt(validConfig(), 'v3.apiV3Key', { ...ENV, WXPAY_V3_API_KEY: '' })).toBe(
      'environment variable WXPAY_V3_API_KEY is empty; set WXPAY_V3_API_KEY or put the value in the config',
    );
    const broken = withChange((c) => {
      c.appid = '${1BAD}';
      c.mchid = '${UNCLOSED';
    });
    const malformed =
      'has a `${` that does not start a valid ${NAME} reference; NAME takes letters, digits and _ and does not start with a digit';
    expect(problemAt(broken, 'appid')).toBe(malformed);
    expect(problemAt(broken, 'mchid')).toBe(malformed);
    expect(
      problemAt(
        withChange((c) => (c.appid = '${constructor}')),
        'appid',
      ),
    ).toContain('environment variable constructor is not set');
  });

  it('reports unknown fields anywhere, with a suggestion', () => {
    const raw = withChange((c) => {
      c.appId = 'x';
      c.extra = 1;
      section(c, 'v2').apikey = 'x';
      section(c, 'v2').notifyURL = 'x';
      section(section(c, 'v3'), 'platform').serail = 'x';
      section(c, 'v3').platfrom = {};
      section(c, 'order').totl = 1;
      c['odd key'] = 1;
    });
    const problems = problemsOf(raw);
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'appId', message: 'unknown field; did you mean `appid`?' },
        {
          path: 'extra',
          message: 'unknown field; expected one of: $schema, name, appid, mchid, v2, v3, partner, combine, order',
        },
        { path: 'v2.apikey', message: 'unknown field; did you mean `apiKey`?' },
        { path: 'v2.notifyURL', message: 'unknown field; did you mean `notifyUrl`?' },
        { path: 'v3.platform.serail', message: 'unknown field; did you mean `serial`?' },
        { path: 'v3.platfrom', message: 'unknown field; did you mean `platform`?' },
        { path: 'order.totl', message: 'unknown field; did you mean `total`?' },
        {
          path: '"odd key"',
          message: 'unknown field; expected one of: $schema, name, appid, mchid, v2, v3, partner, combine, order',
        },
      ]),
    );
    expect(problems).toHaveLength(8);
  });

  it('checks that name makes a safe file name', () => {
    const nameProblem = (name: unknown): string =>
      problemAt(
        withChange((c) => (c.name = name), minimalV2),
        'name',
      );
    expect(nameProblem('acme shop/1')).toBe(
      'can use only letters, digits, -, _ and . because it names the output files (found " " "/"); e.g. "acme-shop"',
    );
    expect(nameProblem('.hidden')).toBe('must not start with "." because it names the output files; e.g. "acme-shop"');
    expect(nameProblem('x'.repeat(101))).toBe(
      'is too long (101 characters); keep it to 100, it names the output files',
    );
    expect(nameProblem('')).toBe('must not be empty: a collection name such as "acme-shop"; it names the output files');
    expect(problemsOf(withChange((c) => (c.name = 'Acme_Shop-2.test'), minimalV2))).toEqual([]);
  });

  it('reports required fields and the missing v2/v3 section', () => {
    const problems = problemsOf({ $schema: 'x' });
    expect(problems).toEqual([
      { path: 'name', message: 'is required: a collection name such as "acme-shop"; it names the output files' },
      {
        path: 'appid',
        message: 'is required: the AppID (公众号/小程序/应用 AppID) the payments belong to, e.g. "wx2421b1c4370ec43b"',
      },
      { path: 'mchid', message: 'is required: your merchant ID (商户号), e.g. "1900000109"' },
      {
        path: '',
        message:
          'the config has neither a `v2` nor a `v3` section; add at least one (v2 for APIv2 notifications, v3 for APIv3)',
      },
    ]);
    const v3 = problemsOf(withChange((c) => (c.v3 = {}), minimalV2));
    expect(v3.map((p) => p.path)).toEqual(['v3.notifyUrl', 'v3.refundNotifyUrl', 'v3.apiV3Key', 'v3.platform']);
    expect(v3[3]?.message).toBe(
      'or v3.platformCertificate is required: the simulated WeChat Pay signer your test server trusts. Public key only (微信支付公钥): v3.platform with a PUB_KEY_ID_… serial; certificate only (平台证书): v3.platformCertificate with the hex serial; both for the switch-over. `wxpay-notify init --key-mode public-key|certificate|both` writes the one you need',
    );
    expect(
      problemAt(
        withChange((c) => delete section(c, 'v2').apiKey),
        'v2.apiKey',
      ),
    ).toBe(
      'is required: the APIv2 key (APIv2密钥) from 商户平台 > 账户中心 > API安全; write "${WXPAY_V2_API_KEY}" to read it from the environment',
    );
  });

  it('reports wrong types', () => {
    expect(
      problemAt(
        withChange((c) => (c.mchid = 1900000109)),
        'mchid',
      ),
    ).toBe('expected a string, got number; put the value in quotes');
    expect(
      problemAt(
        withChange((c) => (c.appid = true)),
        'appid',
      ),
    ).toBe('expected a string, got boolean');
    expect(
      problemAt(
        withChange((c) => (c.v2 = ['x'])),
        'v2',
      ),
    ).toBe('expected an object, got array');
    expect(
      problemAt(
        withChange((c) => (c.order = null)),
        'order',
      ),
    ).toBe('expected an object, got null');
    expect(
      problemAt(
        withChange((c) => (section(c, 'order').total = '100')),
        'order.total',
      ),
    ).toBe(
      'expected a positive integer amount in fen (分), got string; write the number without quotes, e.g. 100 for ¥1.00',
    );
    expect(
      problemAt(
        withChange((c) => (section(c, 'order').refund = {})),
        'order.refund',
      ),
    ).toBe('expected a positive integer amount in fen (分), got object');
    expect(
      problemAt(
        withChange((c) => (section(c, 'order').openid = 7)),
        'order.openid',
      ),
    ).toBe('expected a string, got number; put the value in quotes');
    for (const root of [null, [], 'text', 42]) {
      expect(problemAt(root, '')).toMatch(
        /^the config must be an object \(a JSON object or YAML mapping\) with name, appid, mchid and a v2 or v3 section; got /,
      );
    }
  });

  it('checks notify URLs', () => {
    const urlProblem = (url: string): string =>
      problemAt(
        withChange((c) => (section(c, 'v3').refundNotifyUrl = url)),
        'v3.refundNotifyUrl',
      );
    const viaEnv = withChange((c) => (section(c, 'v3').refundNotifyUrl = '${WXPAY_V3_API_KEY}/n'));
    expect(problemAt(viaEnv, 'v3.refundNotifyUrl')).toBe(
      'must be an absolute http:// or https:// URL, e.g. "https://shop.example.com/wxpay/notify" (got "${WXPAY_V3_API_KEY}/n")',
    );
    expect(urlProblem('/wxpay/notify')).toBe(
      'must be an absolute http:// or https:// URL, e.g. "https://shop.example.com/wxpay/notify" (got "/wxpay/notify")',
    );
    expect(urlProblem('ftp://shop.example.com/n')).toContain('must be an absolute http:// or https:// URL');
    expect(urlProblem('https://shop.example.com/n ')).toBe('has leading or trailing whitespace; remove it');
    expect(problemsOf(withChange((c) => (section(c, 'v3').refundNotifyUrl = 'http://127.0.0.1:8080/n')))).toEqual([]);
  });

  it('checks signType', () => {
    expect(
      problemAt(
        withChange((c) => (section(c, 'v2').signType = 'hmac-sha256')),
        'v2.signType',
      ),
    ).toBe(
      'sign type (签名类型 sign_type) must be "MD5" or "HMAC-SHA256" (got "hmac-sha256"; did you mean "HMAC-SHA256"?)',
    );
    expect(
      problemAt(
        withChange((c) => (section(c, 'v2').signType = 'RSA')),
        'v2.signType',
      ),
    ).toBe('sign type (签名类型 sign_type) must be "MD5" or "HMAC-SHA256" (got "RSA")');
  });

  it('checks API key length and characters, without ever echoing the key', () => {
    const keys = {
      short: V3_KEY.slice(0, 31),
      long: `${V3_KEY}x`,
      wide: `${V3_KEY.slice(0, 31)}Ａ`,
      spaced: `${V3_KEY}\n`,
    };
    const raw = withChange((c) => {
      section(c, 'v2').apiKey = keys.short;
      section(c, 'v3').apiV3Key = '${V3}';
    });
    expect(problemAt(raw, 'v2.apiKey', { V3: keys.long })).toBe(
      'the APIv2 key (APIv2密钥) must be exactly 32 characters (it has 31); copy it again from 商户平台 > 账户中心 > API安全',
    );
    expect(problemAt(raw, 'v3.apiV3Key', { V3: keys.long })).toBe(
      'the APIv3 key (APIv3密钥) must be exactly 32 characters (it has 33); copy it again from 商户平台 > 账户中心 > API安全',
    );
    expect(problemAt(raw, 'v3.apiV3Key', { V3: keys.wide })).toBe(
      'the APIv3 key (APIv3密钥) must be 32 printable ASCII characters (it has others, e.g. full-width or accented letters); copy it again from 商户平台 > 账户中心 > API安全',
    );
    expect(problemAt(raw, 'v3.apiV3Key', { V3: keys.spaced })).toBe(
      'the APIv3 key (APIv3密钥) has leading or trailing whitespace (a copied line break?); remove it',
    );
    for (const value of Object.values(keys)) {
      const all = problemsOf(raw, { V3: value })
        .map((p) => `${p.path}: ${p.message}`)
        .join('\n');
      expect(all).not.toContain(value.trim());
      expect(all).not.toContain(value.slice(0, 12));
      expect(all).not.toContain(keys.short.slice(0, 12));
    }
  });

  it('checks signers and serials', () => {
    const cert = (serial: string): string =>
      problemAt(
        withChange((c) => (section(section(c, 'v3'), 'platformCertificate').serial = serial)),
        'v3.platformCertificate.serial',
      );
    expect(cert('PUB_KEY_ID_0100')).toBe(
      'is a WeChat Pay public-key ID (微信支付公钥ID), not a certificate serial; put it in `v3.platform.serial`, and here the hex serial number of the platform certificate (平台证书序列号)',
    );
    expect(cert('5157-F09E')).toBe(
      'the platform certificate serial (平台证书序列号) must be hexadecimal, e.g. "5157F09EFDC096DE15EBE81A47057A7232F1B8E1" (got "5157-F09E")',
    );
    expect(
      problemAt(
        withChange((c) => (section(section(c, 'v3'), 'platform').serial = '')),
        'v3.platform.serial',
      ),
    ).toBe(
      'must not be empty: the WeChat Pay public-key ID (微信支付公钥ID) your test set-up trusts, e.g. "PUB_KEY_ID_0100…"',
    );
    expect(
      problemAt(
        withChange((c) => delete section(section(c, 'v3'), 'platform').privateKeyFile),
        'v3.platform.privateKeyFile',
      ),
    ).toBe(
      "is required: the PEM file with the simulated WeChat Pay signer's RSA private key, relative to this config file",
    );
    const noCert = withChange((c) => delete section(c, 'v3').platformCertificate);
    expect(validateConfig(noCert, ENV).config?.v3?.platformCertificate).toBeUndefined();
  });

  it('checks partner fields', () => {
    expect(
      problemAt(
        withChange((c) => delete section(c, 'partner').subMchid),
        'partner.subMchid',
      ),
    ).toBe('is required: the sub-merchant ID (子商户号 sub_mchid)');
    expect(
      problemAt(
        withChange((c) => (section(c, 'partner').subAppid = '')),
        'partner.subAppid',
      ),
    ).toBe('must not be empty; give a value or remove the field');
    const { config } = validateConfig(
      withChange((c) => delete section(c, 'partner').subAppid),
      ENV,
    );
    expect(config?.partner).toEqual({ spAppid: 'wx8888888888888888', spMchid: '1230000109', subMchid: '1900000109' });
  });

  it('checks the opt-in combine section (combined payment, 合单支付)', () => {
    expect(
      validateConfig(
        withChange((c) => (c.combine = {})),
        ENV,
      ).config?.combine,
    ).toEqual({});
    expect(
      validateConfig(
        withChange((c) => (c.combine = { subMchids: ['1900000109', '1900000110'] })),
        ENV,
      ).config?.combine,
    ).toEqual({ subMchids: ['1900000109', '1900000110'] });
    expect(
      problemAt(
        withChange((c) => (c.combine = { subMchids: ['1900000109'] })),
        'combine.subMchids',
      ),
    ).toBe(
      'the combined payment case sends two sub-orders (子单): give two merchant IDs, e.g. ["1900000109", "1900000110"] (got 1 entry)',
    );
    expect(
      problemAt(
        withChange((c) => (c.combine = { subMchids: ['1900000109', 1900000110] })),
        'combine.subMchids[1]',
      ),
    ).toBe(
      'expected a merchant ID (商户号) as a non-empty string, e.g. "1900000110" (got "1900000110"); put numbers in quotes',
    );
    expect(
      problemAt(
        withChange((c) => (c.combine = { subMchid: 'x' })),
        'combine.subMchid',
      ),
    ).toBe('unknown field; did you mean `subMchids`?');
    expect(
      problemAt(
        withChange((c) => (c.combine = {}), minimalV2),
        'combine',
      ),
    ).toBe('the combined payment (合单支付) notification is a v3 one: add a `v3` section, or remove `combine`');
  });

  it('checks order amounts and numbers', () => {
    const order = (change: Json, path: string): string =>
      problemAt(
        withChange((c) => Object.assign(section(c, 'order'), change)),
        path,
      );
    expect(order({ total: 0 }, 'order.total')).toBe(
      'the order amount (订单金额 total) must be a positive whole number of fen (分), e.g. 100 for ¥1.00 (got 0)',
    );
    expect(order({ total: 1.5 }, 'order.total')).toContain('(got 1.5)');
    expect(order({ refund: -1 }, 'order.refund')).toBe(
      'the refund amount (退款金额 refund) must be a positive whole number of fen (分), e.g. 100 for ¥1.00 (got -1)',
    );
    expect(order({ refund: 101 }, 'order.refund')).toBe(
      'the refund amount (退款金额 refund) must not exceed the order amount (订单金额 total): 101 > 100 fen',
    );
    expect(order({ outTradeNo: 'T1' }, 'order.outTradeNo')).toBe(
      'the order number (商户订单号 out_trade_no) must be 6 to 32 letters, digits or _ - | * (got "T1")',
    );
    expect(order({ outRefundNo: ' R1' }, 'order.outRefundNo')).toBe('has leading or trailing whitespace; remove it');
    expect(order({ outRefundNo: 'R#1' }, 'order.outRefundNo')).toBe(
      'the refund number (商户退款单号 out_refund_no) must be 1 to 64 letters, digits or _ - | * @ (got "R#1")',
    );
    const { config } = validateConfig(
      withChange((c) => (c.order = { outTradeNo: 'ORDER-0001', total: 250, refund: 50 })),
      ENV,
    );
    expect(config?.order).toMatchObject({
      outTradeNo: 'ORDER-0001',
      outRefundNo: 'RRDER-0001',
      total: 250,
      refund: 50,
    });
  });

  it('reports all problems at once', () => {
    const raw = {
      name: 'bad name',
      mchid: 1,
      v2: { notifyUrl: 'nope', apiKey: 'short', signType: 'SHA1', extra: true },
      v3: {
        notifyUrl: 'https://a/n',
        refundNotifyUrl: 'https://a/r',
        apiV3Key: '${MISSING}',
        platform: { serial: 'PUB_KEY_ID_1' },
      },
      order: { total: -5, refund: 'all' },
    };
    const result = validateConfig(raw, {});
    expect(result.config).toBeUndefined();
    expect(result.problems.map((p) => p.path)).toEqual([
      'name',
      'appid',
      'mchid',
      'v2.extra',
      'v2.notifyUrl',
      'v2.refundNotifyUrl',
      'v2.apiKey',
      'v2.signType',
      'v3.apiV3Key',
      'v3.platform.privateKeyFile',
      'order.total',
      'order.refund',
    ]);
  });
});

describe('schema.json', () => {
  const schema = JSON.parse(readFileSync(resolve(here, '../../src/config/schema.json'), 'utf8')) as Json;

  function schemaPaths(node: Json, prefix: string, out: string[]): string[] {
    const ref = node.$ref;
    if (typeof ref === 'string') {
      const target = ref.replace('#/$defs/', '');
      return schemaPaths((schema.$defs as Record<string, Json>)[target] ?? {}, prefix, out);
    }
    const properties = (node.properties ?? {}) as Record<string, Json>;
    for (const [name, child] of Object.entries(properties)) {
      const path = prefix ? `${prefix}.${name}` : name;
      out.push(path);
      schemaPaths(child, path, out);
    }
    return out;
  }

  function treePaths(tree: FieldTree, prefix: string, out: string[]): string[] {
    for (const [name, child] of Object.entries(tree)) {
      const path = prefix ? `${prefix}.${name}` : name;
      out.push(path);
      if (child !== 'value') treePaths(child, path, out);
    }
    return out;
  }

  it('allows exactly the fields validateConfig allows', () => {
    expect(schemaPaths(schema, '', []).sort()).toEqual(treePaths(CONFIG_FIELDS, '', []).sort());
  });

  it('forbids unknown fields and describes every field', () => {
    const walk = (node: Json, path: string): void => {
      if (node.properties) expect(node.additionalProperties, path).toBe(false);
      for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Json>)) {
        expect(typeof child.description, `${path}.${name}`).toBe('string');
        walk(child, `${path}.${name}`);
      }
    };
    walk(schema, '');
    for (const def of Object.values(schema.$defs as Record<string, Json>)) walk(def, '$defs');
  });

  it('agrees on defaults', () => {
    const order = (schema.properties as Record<string, Json>).order as Json;
    const props = order.properties as Record<string, Json>;
    const { config } = validateConfig(minimalV2(), {});
    for (const [name, prop] of Object.entries(props)) {
      if ('default' in prop) expect(config?.order[name as keyof typeof config.order], name).toBe(prop.default);
    }
  });
});

describe('loadConfig', () => {
  it('loads JSON, reads the key files and resolves their paths against the config folder', async () => {
    const file = writeConfig(validConfig());
    const config = await loadConfig(file, ENV);
    expect(config.configDir).toBe(tmp);
    expect(config.v3?.platform?.privateKeyFile).toBe(join(tmp, 'keys', 'rsa2048.pem'));
    expect(config.v3?.platform?.privateKeyPem).toMatch(pemHeader());
    expect(config.v3?.platformCertificate?.privateKeyPem).toMatch(pemHeader('RSA PRIVATE KEY'));
    expect(config.v2?.apiKey).toBe(V2_KEY);
  });

  it('loads YAML from another folder with ../ key paths, and relative config paths', async () => {
    const dir = join(tmp, 'nested', 'deeper');
    mkdirSync(dir, { recursive: true });
    const raw = validConfig();
    const v3 = section(raw, 'v3');
    section(v3, 'platform').privateKeyFile = '../../keys/rsa2048.pem';
    delete v3.platformCertificate;
    const file = writeConfig(toYaml(raw), '.yaml', dir);
    const config = await loadConfig(file, ENV);
    expect(config.configDir).toBe(dir);
    expect(config.v3?.platform?.privateKeyFile).toBe(join(tmp, 'keys', 'rsa2048.pem'));
    const viaRelativePath = await loadConfig(relative(process.cwd(), file), ENV);
    expect(viaRelativePath.configDir).toBe(dir);
    expect(viaRelativePath.v3?.platform?.privateKeyFile).toBe(join(tmp, 'keys', 'rsa2048.pem'));
  });

  it('without -c, looks for wxpay-notify.jsonc, then wxpay-notify.json', () => {
    const dir = mkdtempSync(join(tmp, 'lookup-'));
    expect(defaultConfigFile(dir)).toBe('wxpay-notify.jsonc');
    writeFileSync(join(dir, 'wxpay-notify.json'), '{}');
    expect(defaultConfigFile(dir)).toBe('wxpay-notify.json');
    writeFileSync(join(dir, 'wxpay-notify.jsonc'), '{}');
    expect(defaultConfigFile(dir)).toBe('wxpay-notify.jsonc');
  });

  it('throws a UserError for a missing config file', async () => {
    const missing = join(tmp, 'nope.json');
    const error: unknown = await loadConfig(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).code).toBe('E_CONFIG_NOT_FOUND');
    expect((error as Error).message).toBe(`config file not found: ${missing}; run \`wxpay-notify init\` to create one`);
    const dirError: unknown = await loadConfig(join(tmp, 'keys.json').replace('keys.json', 'keys')).catch(
      (e: unknown) => e,
    );
    expect(dirError).toBeInstanceOf(UserError);
  });

  const advice =
    'WeChat Pay signs with RSA (SHA256-RSA2048): use a 2048-bit RSA private key (`wxpay-notify init` makes one)';
  it.each([
    ['rsa1024.pem', `is a 1024-bit RSA key; ${advice}`],
    ['ec.pem', `holds a key of type "ec", not RSA; ${advice}`],
    [
      'encrypted.pem',
      'is encrypted with a passphrase; export it without a passphrase, e.g. `openssl pkey -in encrypted.pem -out plain.pem`',
    ],
    [
      'encrypted-pkcs1.pem',
      'is encrypted with a passphrase; export it without a passphrase, e.g. `openssl pkey -in encrypted.pem -out plain.pem`',
    ],
    [
      'garbage.pem',
      'is not a PEM file (no "-----BEGIN" line); expected an RSA private key in PEM format (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)',
    ],
    [
      'public.pem',
      'holds no private key (a certificate or public key?); the simulator signs as WeChat Pay, so it needs the private key of the pair',
    ],
    ['broken.pem', /^is not a valid PEM private key \(ERR_[A-Z_]+\); export the key again or run `wxpay-notify init`$/],
  ])('reports a bad key file: %s', async (name, expected) => {
    const raw = withChange((c) => (section(section(c, 'v3'), 'platform').privateKeyFile = `keys/${name}`));
    const error = await loadError(writeConfig(raw));
    expect(error.problems).toHaveLength(1);
    const problem = error.problems[0];
    expect(problem?.path).toBe('v3.platform.privateKeyFile');
    const prefix = `${join(tmp, 'keys', name)} `;
    expect(problem?.message.startsWith(prefix)).toBe(true);
    const rest = problem?.message.slice(prefix.length) ?? '';
    if (typeof expected === 'string') expect(rest).toBe(expected);
    else expect(rest).toMatch(expected);
  });

  it('reports a missing key file, and a folder given as a key file', async () => {
    const raw = withChange((c) => {
      section(section(c, 'v3'), 'platform').privateKeyFile = 'keys/missing.pem';
      section(section(c, 'v3'), 'platformCertificate').privateKeyFile = 'keys';
    });
    const error = await loadError(writeConfig(raw));
    expect(error.problems).toEqual([
      {
        path: 'v3.platform.privateKeyFile',
        message: `private key file not found: ${join(tmp, 'keys', 'missing.pem')} (relative paths start from the config file's folder); run \`wxpay-notify init\` to create test keys`,
      },
      {
        path: 'v3.platformCertificate.privateKeyFile',
        message: `${join(tmp, 'keys')} is not a file; point this at a PEM private key file`,
      },
    ]);
  });

  it('shows a key path built from ${NAME} as written, never the environment value', async () => {
    const raw = withChange(
      (c) => (section(section(c, 'v3'), 'platform').privateKeyFile = 'keys/${WXPAY_V2_API_KEY}.pem'),
    );
    const error = await loadError(writeConfig(raw));
    expect(error.problems).toEqual([
      {
        path: 'v3.platform.privateKeyFile',
        message:
          "private key file not found: keys/${WXPAY_V2_API_KEY}.pem (relative paths start from the config file's folder); run `wxpay-notify init` to create test keys",
      },
    ]);
    const fromEnv = withChange(
      (c) => (section(section(c, 'v3'), 'platform').privateKeyFile = '${KEY_DIR}/rsa2048.pem'),
    );
    const config = await loadConfig(writeConfig(fromEnv), { ...ENV, KEY_DIR: join(tmp, 'keys') });
    expect(config.v3?.platform?.privateKeyFile).toBe(join(tmp, 'keys', 'rsa2048.pem'));
  });

  it('throws validation and key-file problems together, one line each, secrets left out', async () => {
    const raw = withChange((c) => {
      section(c, 'v2').apiKey = V2_KEY.slice(0, 31);
      section(section(c, 'v3'), 'platform').privateKeyFile = 'keys/ec.pem';
      section(c, 'order').total = 0;
    });
    const file = writeConfig(raw);
    const error = await loadError(file, { WXPAY_V3_API_KEY: `${V3_KEY}x` });
    expect(error.problems.map((p) => p.path)).toEqual([
      'v2.apiKey',
      'v3.apiV3Key',
      'order.total',
      'v3.platform.privateKeyFile',
    ]);
    expect(error.message.split('\n')).toHaveLength(4);
    expect(error.message.split('\n')[0]).toBe(
      `${file}: v2.apiKey: the APIv2 key (APIv2密钥) must be exactly 32 characters (it has 31); copy it again from 商户平台 > 账户中心 > API安全`,
    );
    expect(error.message).not.toContain(V2_KEY.slice(0, 31));
    expect(error.message).not.toContain(V3_KEY);
  });

  it('never lets anything but a UserError escape, on 300 mutated configs (fuzz)', async () => {
    // Input from WXPAY_TEST_SEED (printed on failure); CONFIG_FUZZ_RUNS explores further.
    const random = seededRandom();
    const runs = Number(process.env.CONFIG_FUZZ_RUNS ?? 300);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const randomString = (): string => {
      const alphabet = [
        'a',
        'Z',
        '0',
        ' ',
        '/',
        '$',
        '{',
        '}',
        '${',
        '${WXPAY_V2_API_KEY}',
        '${NOPE}',
        '中',
        '\n',
        '"',
        '\\',
        ':',
        '.',
        '-',
        '\u0000',
        '🙂',
        'PUB_KEY_ID_',
      ];
      return Array.from({ length: Math.floor(random() * 40) }, () => pick(alphabet)).join('');
    };
    const randomValue = (): unknown =>
      pick([
        () => null,
        () => true,
        () => Math.floor(random() * 1e6) - 1000,
        () => random(),
        () => [],
        () => ({}),
        () => randomString(),
        () => ({ [randomString()]: 1 }),
      ])();
    const paths = (node: unknown, prefix: string[] = []): string[][] =>
      node && typeof node === 'object' && !Array.isArray(node)
        ? Object.entries(node).flatMap(([key, child]) => [[...prefix, key], ...paths(child, [...prefix, key])])
        : [];

    const outcomes = { loaded: 0, rejected: 0 };
    for (let i = 0; i < runs; i += 1) {
      const raw = validConfig();
      for (let m = 0, n = 1 + Math.floor(random() * 3); m < n; m += 1) {
        const path = pick(paths(raw));
        const parent = path.slice(0, -1).reduce<Json>((node, key) => node[key] as Json, raw);
        const key = path[path.length - 1] ?? '';
        const action = random();
        if (action < 0.3) delete parent[key];
        else if (action < 0.8) parent[key] = randomValue();
        else {
          parent[randomString() || 'x'] = parent[key];
          delete parent[key];
        }
      }
      const yaml = random() < 0.3;
      let text = yaml ? toYaml(raw) : JSON.stringify(raw, null, random() < 0.5 ? 2 : undefined);
      if (random() < 0.25) text = text.slice(0, Math.floor(random() * text.length));
      const file = writeConfig(text, yaml ? '.yaml' : '.json');
      try {
        await loadConfig(file, random() < 0.8 ? ENV : {});
        outcomes.loaded += 1;
      } catch (error) {
        if (!(error instanceof UserError))
          throw new Error(`fuzz case ${i} threw ${String(error)}\n${text}`, { cause: error });
        expect(error.message).not.toContain(V2_KEY);
        expect(error.message).not.toContain(V3_KEY);
        outcomes.rejected += 1;
      }
    }
    expect(outcomes.rejected).toBeGreaterThan(runs / 3);
    expect(outcomes.loaded).toBeGreaterThan(0);
  }, 600_000);
});
