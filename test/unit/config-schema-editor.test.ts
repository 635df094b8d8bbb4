import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  getLanguageService,
  TextDocument,
  type Diagnostic,
  type DocumentLanguageSettings,
  type MarkedString,
  type MarkupContent,
} from 'vscode-json-languageservice';
import { CONFIG } from '../../src/config/contract.js';
import { leaves } from '../../src/config/spec.js';
import { INIT_FILES, renderExampleConfig } from '../../src/keys/init-files.js';
import { KEY_MODES } from '../../src/keys/key-mode.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * schema.json as VS Code uses it: vscode-json-languageservice is the engine of VS Code's JSON
 * language features. A config points at the schema with `"$schema"` (as the docs tell users to), the
 * service loads it, validates, and shows each field's description on hover and in completion.
 */
const SCHEMA_PATH = './node_modules/wxpay-notify/src/config/schema.json';
const schemaText = readFileSync(join(PACKAGE_ROOT, 'src', 'config', 'schema.json'), 'utf8');
const requested: string[] = [];
const service = getLanguageService({
  // What an installed package answers at ./node_modules/wxpay-notify/src/config/schema.json.
  schemaRequestService: async (uri) => {
    requested.push(uri);
    if (uri.endsWith('/node_modules/wxpay-notify/src/config/schema.json')) return schemaText;
    throw new Error(`no schema at ${uri}`);
  },
  workspaceContext: { resolveRelativePath: (relative, resource) => new URL(relative, resource).toString() },
});
service.configure({ validate: true, allowComments: false });

/**
 * VS Code's JSON server picks these by language: `.jsonc` files are "JSON with Comments"; every
 * other language id, `.json` included, is strict (vscode json-language-features, jsonServer.ts).
 */
const SETTINGS: Record<'json' | 'jsonc', DocumentLanguageSettings> = {
  jsonc: { comments: 'ignore', trailingCommas: 'warning' },
  json: { comments: 'error', trailingCommas: 'error' },
};

function open(text: string, file: string): TextDocument {
  return TextDocument.create(`file:///project/${file}`, file.endsWith('.jsonc') ? 'jsonc' : 'json', 1, text);
}

async function diagnose(text: string, file: string): Promise<Diagnostic[]> {
  const document = open(text, file);
  return service.doValidation(
    document,
    service.parseJSONDocument(document),
    SETTINGS[document.languageId as 'json' | 'jsonc'],
  );
}

/** The config `init --dir wxpay-test` writes in a project that installed wxpay-notify. */
function initConfig(keyMode: (typeof KEY_MODES)[number] = 'both'): string {
  return renderExampleConfig(testKeys(), keyMode, `.${SCHEMA_PATH}`);
}

/** A config with every field of the contract set to a valid value. */
const EVERY_FIELD = {
  $schema: SCHEMA_PATH,
  name: 'shop',
  appid: 'wx2421b1c4370ec43b',
  mchid: '1900000109',
  v2: {
    notifyUrl: 'https://a.example/n',
    refundNotifyUrl: 'https://a.example/r',
    apiKey: '${WXPAY_V2_API_KEY}',
    signType: 'HMAC-SHA256',
  },
  v3: {
    notifyUrl: 'https://a.example/v3/n',
    refundNotifyUrl: 'https://a.example/v3/r',
    apiV3Key: '${WXPAY_V3_API_KEY}',
    platform: { privateKeyFile: 'keys/p.pem', serial: 'PUB_KEY_ID_0100TEST0000000000000000000001' },
    platformCertificate: { privateKeyFile: 'keys/c.pem', serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1' },
  },
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
    openid: 'o1',
    transactionId: '4200000000000000000000000001',
    outRefundNo: 'R1',
    refundId: '5000000001',
    refund: 250,
  },
};

const text = (contents: MarkupContent | MarkedString | MarkedString[]): string =>
  (Array.isArray(contents) ? contents : [contents]).map((c) => (typeof c === 'string' ? c : c.value)).join('\n');

/** A hover's markdown as read: the service escapes markdown characters with a backslash. */
const unescaped = (markdown: string): string => markdown.replace(/\\(.)/g, '$1');

describe('schema.json in VS Code (vscode-json-languageservice)', () => {
  beforeAll(() => void testKeys(), 120_000); // RSA key generation, once per file

  it.each(KEY_MODES)(
    'the config init writes (--key-mode %s) is clean as wxpay-notify.jsonc: no diagnostic at all',
    async (keyMode) => {
      expect(INIT_FILES.config).toBe('wxpay-notify.jsonc');
      expect(await diagnose(initConfig(keyMode), `wxpay-test/${INIT_FILES.config}`)).toEqual([]);
      // The schema was found through the config's own "$schema", as VS Code finds it.
      expect(requested.at(-1)).toBe('file:///project/node_modules/wxpay-notify/src/config/schema.json');
    },
  );

  it('the example config behind collections/ is clean as a .jsonc too', async () => {
    const example = readFileSync(join(PACKAGE_ROOT, 'collections', 'example.wxpay-notify.jsonc'), 'utf8');
    expect(
      await diagnose(
        example.replace(/^\{\n/m, `{\n  "$schema": ${JSON.stringify(SCHEMA_PATH)},\n`),
        'example.wxpay-notify.jsonc',
      ),
    ).toEqual([]);
  });

  it('the same text under the old name wxpay-notify.json gets one "Comments are not permitted" per comment', async () => {
    const config = initConfig();
    const comments = config.split('\n').filter((line) => line.trim().startsWith('//')).length;
    const diagnostics = await diagnose(config, 'wxpay-test/wxpay-notify.json');
    expect(diagnostics.map((d) => d.message)).toEqual(new Array(comments).fill('Comments are not permitted in JSON.'));
  });

  it('a config with every field is valid, in .json and .jsonc alike', async () => {
    const json = JSON.stringify(EVERY_FIELD, null, 2);
    expect(await diagnose(json, 'wxpay-notify.json')).toEqual([]);
    expect(await diagnose(json, 'wxpay-notify.jsonc')).toEqual([]);
  });

  it.each([
    ['an unknown field', { appId: 'wx' }, 'Property appId is not allowed.'],
    ['mchid as a number', { mchid: 1900000109 }, 'Incorrect type. Expected "string".'],
    [
      'a sign type in lower case',
      { v2: { ...EVERY_FIELD.v2, signType: 'md5' } },
      'Value is not accepted. Valid values: "MD5", "HMAC-SHA256".',
    ],
    [
      'a refund above the default total without a total',
      { order: { refund: 101 } },
      'Value is above the maximum of 100.',
    ],
  ])('flags %s where it is', async (_what, change, message) => {
    const diagnostics = await diagnose(JSON.stringify({ ...EVERY_FIELD, ...change }, null, 2), 'wxpay-notify.jsonc');
    expect(diagnostics.map((d) => d.message)).toContain(message);
  });

  it('shows every field’s description from the contract on hover', async () => {
    const json = JSON.stringify(EVERY_FIELD, null, 2);
    const document = open(json, 'wxpay-notify.jsonc');
    const parsed = service.parseJSONDocument(document);
    const tree = parseTree(json)!;
    const fields = leaves(CONFIG).map(({ path, leaf }) => ({ path, description: leaf.description }));
    expect(fields.length).toBeGreaterThan(20);
    for (const { path, description } of fields) {
      const value = findNodeAtLocation(tree, path);
      expect(value, path.join('.')).toBeDefined();
      // The property name's first character, where a user points.
      const key = value!.parent!.children![0]!;
      const hover = await service.doHover(document, document.positionAt(key.offset + 1), parsed);
      expect(hover && unescaped(text(hover.contents)), path.join('.')).toContain(description);
    }
  });

  it('offers each top-level field in completion, with its description', async () => {
    const source = '{\n  \n}';
    const document = open(source, 'wxpay-notify.jsonc');
    const { items } = (await service.doComplete(
      document,
      document.positionAt(4),
      service.parseJSONDocument(document),
    ))!;
    // Without a $schema, the service must be told the schema: as a user's settings.json would.
    expect(items.map((i) => i.label)).not.toContain('mchid');
    service.configure({
      validate: true,
      schemas: [
        {
          uri: 'wxpay-notify-schema',
          fileMatch: ['wxpay-notify.jsonc', 'wxpay-notify.json'],
          schema: JSON.parse(schemaText),
        },
      ],
    });
    try {
      const completion = (await service.doComplete(
        document,
        document.positionAt(4),
        service.parseJSONDocument(document),
      ))!;
      for (const [name, field] of Object.entries(CONFIG.fields)) {
        const item = completion.items.find((i) => i.label === name);
        expect(item, name).toBeDefined();
        expect(text(item!.documentation as MarkupContent | string), name).toContain(field.description.slice(0, 40));
      }
    } finally {
      service.configure({ validate: true, allowComments: false });
    }
  });
});
