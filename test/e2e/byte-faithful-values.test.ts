import { createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/types.js';
import { validateConfig } from '../../src/config/validate-config.js';
import { selectCases } from '../../src/cases/select-cases.js';
import { CATALOGUE } from '../../src/cases/catalogue.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { caseSpec } from '../../src/collection/case-spec.js';
import { readTemplate } from '../../src/collection/read-template.js';
import { collectionVariables, secretValues } from '../../src/collection/variables.js';
import { runCollection } from '../../src/runner/run-collection.js';
import { parseFlatXml } from '../../src/protocol/v2/flat-xml.js';
import { decryptReqInfo } from '../../src/protocol/v2/req-info.js';
import { verifyV2Sign } from '../../src/protocol/v2/sign-fields.js';
import { decryptResource } from '../../src/protocol/v3/aes-gcm.js';
import { v3SignMessage, verifyV3 } from '../../src/protocol/v3/sign-message.js';
import { runWithPostmanRuntime } from '../support/run-with-postman-runtime.js';
import { runWithBruno, type BrunoSandbox } from '../support/run-with-bruno.js';
import { seededRandom, seededStream, type SeededRandom } from '../support/seeded-random.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * Every string a config (or a --data row) holds reaches the wire byte for byte, in every runtime the
 * collection runs in: random hostile strings in every string field, one collection run per runtime
 * to a capture server, each notification decoded with the Node protocol code and compared with
 * what was configured; and no secret, in any encoding, anywhere in what was sent.
 */

const SECRET_NAMES = ['v2_api_key', 'v3_api_key', 'v3_platform_private_key', 'v3_certificate_private_key'];
/** Pieces that broke, or could break, a template, a serializer or a runtime's substitution. */
const PIECES = [
  '"',
  "'",
  '\\',
  '\\"',
  '\\u0041',
  '{',
  '}',
  '{{',
  '}}',
  '{{{',
  '}}}',
  '{{appid}}',
  '{{ mchid }}',
  '{{$guid}}',
  '{{$timestamp}}',
  '{{process.env.HOME}}',
  ...SECRET_NAMES.map((n) => `{{${n}}}`),
  '{{v2_api_key',
  'v3_api_key}}',
  '{{#each}}',
  ']]>',
  ']]',
  ']',
  '<![CDATA[',
  '<',
  '>',
  '&',
  '&amp;',
  '&#123;',
  '</appid>',
  '<xml>',
  "'''",
  '%7B%7B',
  '%',
  '+',
  '=',
  '&key=',
  ':',
  '~',
  '@',
  '#',
  '`',
  '$',
  '😀',
  '𠀀',
  '测试',
  'é',
  'e\u0301',
  '\u00a0',
  '\u2028',
  '\u2029',
  '\u200b',
  '\u202e',
  '\ufeff',
  '\ufffd',
  'a',
  'Z',
  '0',
  '9',
  '_',
  '-',
  ' ',
];
/** --data cells and config strings obey the same rules (config contract): no control characters. */
const TEXT_FIELDS = [
  'appid',
  'mchid',
  'openid',
  'transaction_id',
  'refund_id',
  'sp_appid',
  'sp_mchid',
  'sub_appid',
  'sub_mchid',
  'sub_openid',
  'combine_sub_mchid_1',
  'combine_sub_mchid_2',
];

function hostileText(random: SeededRandom): string {
  let text = random.int(4) === 0 ? "'''" : '';
  const pieces = 1 + random.int(6);
  for (let i = 0; i < pieces; i++) text += random.pick(PIECES);
  // The contract: no surrounding whitespace, not empty; `${` is the config's own reference syntax.
  text = text.replace(/\$\{/g, '$ {').trim();
  return text === '' || /^\s|\s$/u.test(text) ? `x${text}x` : text;
}

function formText(random: SeededRandom, alphabet: string, min: number, max: number): string {
  const length = min + random.int(max - min + 1);
  return Array.from({ length }, () => alphabet[random.int(alphabet.length)]).join('');
}
const ORDER_NO = 'ABCxyz0189_-|*';
const REFUND_NO = `${ORDER_NO}@`;
const PRINTABLE = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join('');

/** A 32-character key from printable ASCII, always with a variable in it. */
function hostileKey(random: SeededRandom): string {
  const inner = random.pick(['{{appid}}', '{{v3_api_key}}', '"\\{{', '}}{{mchid}}']);
  // `${` opens a config reference (the contract reads it as one), so a key never holds it.
  return (inner + formText(random, PRINTABLE, 32, 32)).replace(/\$\{/g, '$(').slice(0, 32);
}

/** A config made of hostile strings, passed through the real config contract first. */
function hostileConfig(random: SeededRandom, url: string, partner: boolean, dir: string): ResolvedConfig {
  const keys = testKeys();
  const raw = {
    name: 'faithful',
    appid: hostileText(random),
    mchid: hostileText(random),
    v2: {
      notifyUrl: `${url}/v2/pay`,
      refundNotifyUrl: `${url}/v2/refund`,
      apiKey: hostileKey(random),
      signType: random.pick(['MD5', 'HMAC-SHA256']),
    },
    v3: {
      notifyUrl: `${url}/v3/pay`,
      refundNotifyUrl: `${url}/v3/refund`,
      apiV3Key: hostileKey(random),
      platform: {
        privateKeyFile: 'platform.pem',
        serial: `PUB_KEY_ID_${formText(random, PRINTABLE.replace(/[{}]/g, ''), 4, 20)}`,
      },
    },
    ...(partner
      ? {
          partner: {
            spAppid: hostileText(random),
            spMchid: hostileText(random),
            subAppid: hostileText(random),
            subMchid: hostileText(random),
          },
        }
      : {}),
    combine: { subMchids: [hostileText(random), hostileText(random)] },
    order: {
      outTradeNo: formText(random, ORDER_NO, 6, 32),
      openid: hostileText(random),
      transactionId: hostileText(random),
      outRefundNo: formText(random, REFUND_NO, 1, 64),
      refundId: hostileText(random),
      total: 2 + random.int(100_000),
    },
  };
  const { config, problems } = validateConfig(raw, {});
  expect(problems, 'the generator makes only strings the config contract accepts').toEqual([]);
  return {
    ...config!,
    v3: { ...config!.v3!, platform: { ...config!.v3!.platform!, privateKeyPem: keys.publicKey.privateKeyPem } },
    configDir: dir,
  } as ResolvedConfig;
}

function hostileRows(random: SeededRandom, partner: boolean, count: number): Record<string, string>[] {
  return Array.from({ length: count }, () => {
    const row: Record<string, string> = {};
    for (const name of TEXT_FIELDS) if (partner || !/^s(p|ub)_/.test(name)) row[name] = hostileText(random);
    row.out_trade_no = formText(random, ORDER_NO, 6, 32);
    row.out_refund_no = formText(random, REFUND_NO, 1, 64);
    return row;
  });
}

interface Captured {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function captureServer(): Promise<{ server: Server; url: string; captured: Captured[] }> {
  const captured: Captured[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      captured.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      if (req.url?.startsWith('/v2/')) {
        res
          .writeHead(200, { 'Content-Type': 'text/xml' })
          .end('<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>');
      } else {
        res.writeHead(204).end();
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, captured }),
    ),
  );
}

const CASES = ['v2.pay.success', 'v2.refund.success', 'v3.pay.success', 'v3.refund.success', 'v3.pay.combine'];

/** What one template says a field must be: `{{name}}` → that variable's value; a literal → itself. */
function expectedLeaves(
  template: unknown,
  wire: unknown,
  values: Record<string, string>,
  path: string,
  out: string[],
): void {
  if (typeof template === 'string') {
    const m = /^\{\{(\w+)\}\}$/.exec(template);
    if (m && m[1]!.startsWith('wxpay_')) return;
    const want = m ? values[m[1]!] : template.includes('{{') ? undefined : template;
    if (want !== undefined && wire !== want)
      out.push(`${path}: sent ${JSON.stringify(wire)}, configured ${JSON.stringify(want)}`);
    return;
  }
  if (template && typeof template === 'object') {
    if (!wire || typeof wire !== 'object') {
      out.push(`${path}: missing`);
      return;
    }
    for (const [k, v] of Object.entries(template))
      expectedLeaves(v, (wire as Record<string, unknown>)[k], values, `${path}.${k}`, out);
  }
}

/** The template as data: string placeholders kept as "{{name}}", number placeholders as 0 (not compared). */
function templateShape(text: string, version: 'v2' | 'v3'): unknown {
  if (version === 'v2') return parseFlatXml(text).fields;
  return JSON.parse(text.replace(/(?<!")\{\{\s*\w+\s*\}\}(?!")/g, '0'), (_k, v: unknown) =>
    typeof v === 'number' ? undefined : v,
  );
}

/** Decodes one captured notification with the Node protocol code: the fields a merchant reads. */
function decode(c: Captured, config: ResolvedConfig): { kind: string; fields: unknown; problems: string[] } {
  const text = c.body.toString('utf8');
  const problems: string[] = [];
  if (!Buffer.from(text, 'utf8').equals(c.body)) problems.push('the body is not valid UTF-8');
  if (c.path === '/v2/pay') {
    const fields = parseFlatXml(text).fields;
    if (!verifyV2Sign(fields, config.v2!.apiKey))
      problems.push('v2 sign does not verify with the configured APIv2 key');
    return { kind: 'v2-pay', fields, problems };
  }
  if (c.path === '/v2/refund') {
    const outer = parseFlatXml(text).fields;
    const inner = parseFlatXml(decryptReqInfo(outer.req_info!, config.v2!.apiKey)).fields;
    return { kind: 'v2-refund', fields: { outer, inner }, problems };
  }
  const envelope = JSON.parse(text) as { resource: { ciphertext: string; nonce: string; associated_data: string } };
  const message = v3SignMessage(String(c.headers['wechatpay-timestamp']), String(c.headers['wechatpay-nonce']), text);
  if (c.headers['wechatpay-serial'] !== config.v3!.platform!.serial)
    problems.push(`Wechatpay-Serial ${JSON.stringify(c.headers['wechatpay-serial'])} is not the configured serial`);
  if (!verifyV3(message, String(c.headers['wechatpay-signature']), createPublicKey(config.v3!.platform!.privateKeyPem)))
    problems.push('v3 signature does not verify');
  const r = envelope.resource;
  const resource = JSON.parse(decryptResource(r.ciphertext, config.v3!.apiV3Key, r.nonce, r.associated_data)) as Record<
    string,
    unknown
  >;
  return {
    kind: c.path === '/v3/refund' ? 'v3-refund' : 'combine_out_trade_no' in resource ? 'v3-combine' : 'v3-pay',
    fields: resource,
    problems,
  };
}

const KIND: Record<string, string> = {
  'v2.pay.success': 'v2-pay',
  'v2.refund.success': 'v2-refund',
  'v3.pay.success': 'v3-pay',
  'v3.refund.success': 'v3-refund',
  'v3.pay.combine': 'v3-combine',
};

/** Every expected notification (case × data row) found on the wire exactly as configured. */
function assertFaithful(captured: Captured[], config: ResolvedConfig, rows: Record<string, string>[]): void {
  const decoded = captured.map((c) => decode(c, config));
  for (const d of decoded) expect(d.problems).toEqual([]);
  const unmatched = [...decoded];
  const failures: string[] = [];
  for (const row of rows.length > 0 ? rows : [{}]) {
    for (const id of CASES) {
      const def = CATALOGUE.find((c) => c.id === id)!;
      const values: Record<string, string> = {
        ...Object.fromEntries(collectionVariables(config).map((v) => [v.key, v.value])),
        ...caseSpec(def, config).order,
        ...row,
      };
      const shape = templateShape(readTemplate(def.template, config), def.version);
      const expected =
        def.id === 'v2.refund.success'
          ? { outer: Object.fromEntries(Object.entries(caseSpec(def, config).outer!)), inner: shape }
          : shape;
      const candidates = unmatched.filter((d) => d.kind === KIND[id]);
      const diffs = candidates.map((d) => {
        const out: string[] = [];
        expectedLeaves(expected, d.fields, values, id, out);
        return out;
      });
      const hit = diffs.findIndex((d) => d.length === 0);
      if (hit < 0) {
        failures.push(
          `${id} (row ${JSON.stringify(row)}): no notification on the wire carries the configured values; nearest: ${(diffs.sort((a, b) => a.length - b.length)[0] ?? ['nothing sent']).join('; ')}`,
        );
        continue;
      }
      unmatched.splice(unmatched.indexOf(candidates[hit]!), 1);
    }
  }
  expect(failures).toEqual([]);
}

/** Each secret and its fragments, raw and as JSON, XML, URL and base64 would write them. */
function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    const pieces = [secret, ...secret.split('\n').filter((line) => line.length >= 16 && !/^-----/.test(line))];
    for (let i = 0; i + 16 <= secret.length && secret.length <= 64; i += 8) pieces.push(secret.slice(i, i + 16));
    for (const p of pieces) {
      forms.add(p);
      forms.add(JSON.stringify(p).slice(1, -1));
      forms.add(p.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
      forms.add(encodeURIComponent(p));
      for (let shift = 0; shift < 3; shift++) forms.add(Buffer.from(p.slice(shift)).toString('base64').slice(0, 16));
    }
  }
  return [...forms].filter((f) => f.length >= 12);
}

function assertNoSecret(captured: Captured[], config: ResolvedConfig): void {
  const forms = secretForms(secretValues(config));
  for (const c of captured) {
    const wire = [
      c.path,
      ...Object.entries(c.headers).map(([k, v]) => `${k}: ${String(v)}`),
      c.body.toString('latin1'),
      c.body.toString('utf8'),
    ].join('\n');
    const found = forms.filter((f) => wire.includes(f));
    expect(found.map((f) => `${f.slice(0, 4)}… in a request to ${c.path}`)).toEqual([]);
  }
}

type Runtime = 'newman' | 'postman-runtime' | BrunoSandbox;

async function send(runtime: Runtime, config: ResolvedConfig, rows: Record<string, string>[]): Promise<void> {
  const cases = selectCases(config, { only: CASES });
  if (runtime === 'newman') {
    await runCollection({
      collection: buildCollection(config, cases),
      environment: buildEnvironment(config, true),
      iterationData: rows,
    });
  } else if (runtime === 'postman-runtime') {
    const environment = buildEnvironment(config, true) as { values: { key: string; value: string }[] };
    await runWithPostmanRuntime(buildCollection(config, cases), environment, {
      run: { data: rows, iterationCount: rows.length },
    });
  } else {
    const run = await runWithBruno(config, { sandbox: runtime, only: CASES });
    expect(run.requests.filter((r) => r.status === 'error').map((r) => `${r.caseId}: ${r.error}`)).toEqual([]);
    // Every answer is a correct acknowledgement: every case passes and bru exits 0, as in a CI job
    // whose receiver is right (test/e2e/bruno.test.ts runs its glue cases beside failing receivers).
    expect(run.failing).toEqual([]);
    expect(run.exitCode).toBe(0);
  }
}

describe('values reach the wire byte for byte (random hostile strings in every string field)', () => {
  let capture: Awaited<ReturnType<typeof captureServer>>;
  let dir: string;
  beforeAll(async () => {
    capture = await captureServer();
    dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-faithful-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => capture.server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  // Bruno runs have no data rows: its strings all come from the config. Newman and postman-runtime
  // run both partner modes; Bruno runs once (each `bru` start-up costs ~4 s of CPU), in a sandbox and
  // a partner mode drawn from two seeded coins, so over runs every pairing of Bruno's two sandboxes
  // and the two partner modes sends hostile strings. The coins come from WXPAY_TEST_SEED, printed
  // when a test fails.
  const coins = seededStream('byte-faithful: Bruno sandbox and partner mode');
  const brunoSandbox: BrunoSandbox = coins.int(2) === 1 ? 'developer' : 'safe';
  const brunoPartner = coins.int(2) === 1;
  const runtimes: [Runtime, number, boolean[]][] = [
    ['newman', 3, [false, true]],
    ['postman-runtime', 3, [false, true]],
    [brunoSandbox, 0, [brunoPartner]],
  ];
  for (const [runtime, rowCount, partnerModes] of runtimes) {
    it.each(partnerModes)(
      `${runtime}: config strings${rowCount ? ' and --data cells' : ''} arrive exactly as configured (partner: %s)`,
      async (partner) => {
        const random = seededRandom();
        const config = hostileConfig(random, capture.url, partner, dir);
        const rows = hostileRows(random, partner, rowCount);
        capture.captured.length = 0;
        await send(runtime, config, rows);
        expect(capture.captured.length).toBe(CASES.length * Math.max(1, rows.length));
        assertFaithful(capture.captured, config, rows);
        assertNoSecret(capture.captured, config);
      },
      120_000,
    );
  }
});
