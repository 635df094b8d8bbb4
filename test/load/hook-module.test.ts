import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  renderHookModule,
  writeHookModule,
  type NotifierConfig,
  type WrittenHooks,
} from '../../src/load/hook-module.js';
import { notifierConfig } from '../../src/load/mix.js';
import { judgeAnswer } from '../../src/judge/answer.js';
import { caseSpec } from '../../src/collection/case-spec.js';
import { CATALOGUE } from '../../src/cases/catalogue.js';
import { decryptResource } from '../../src/protocol/v3/aes-gcm.js';
import { verifyV3 } from '../../src/protocol/v3/sign-message.js';
import { decryptReqInfo } from '../../src/protocol/v2/req-info.js';
import { startSuite, testKeys, type SuiteFixture } from '../support/suite-fixture.js';

interface Sent {
  variables: Record<string, string>;
  spec: { outer?: Record<string, string> };
  record: {
    version: string;
    kind: string;
    outTradeNo: string;
    transactionId: string;
    outRefundNo?: string;
    refundId?: string;
    total: number;
    refund?: number;
  };
  path: string;
  headers: Record<string, string>;
  body: string;
}
interface HookModule {
  createNotifier(config: NotifierConfig): { next(nowMs: number): Sent; again(sent: Sent, nowMs: number): Sent };
  judgeAnswer(
    spec: object,
    status: number,
    body: string,
    headers: Record<string, string>,
    timeMs: number,
    secrets: string[],
  ): { acknowledged: boolean; received: boolean; cause: string; message: string };
  memoJudge(
    secrets: string[],
  ): (
    spec: object,
    status: number,
    body: string,
    headers: Record<string, string>,
    timeMs: number,
  ) => { acknowledged: boolean; received: boolean; cause: string; message: string };
  rawRequest(host: string, path: string, headers: Record<string, string>, body: string | Buffer): Buffer;
  SANDBOX: {
    buildV2Delivery(
      spec: object,
      xml: string,
      apiKey: string,
      outer: Record<string, string>,
      nonce: string,
    ): { body: string };
    fillTemplate(text: string, format: 'xml' | 'json' | 'text', valueOf: (name: string) => string): string;
    parseFlatXml(xml: string): { fields: Record<string, string> };
  };
  lowerHeaders(headers: Record<string, string> | string[]): Record<string, string>;
}

describe('the load hook module', () => {
  let suite: SuiteFixture;
  let written: WrittenHooks;
  let mod: HookModule;
  let config: NotifierConfig;
  beforeAll(async () => {
    suite = await startSuite();
    written = writeHookModule();
    mod = createRequire(import.meta.url)(written.modulePath) as HookModule;
    config = notifierConfig(suite.config, { 'v3.pay': 1, 'v3.refund': 1, 'v2.pay': 1, 'v2.refund': 1 });
  }, 60_000);
  /** A v3 notification's resource, decrypted with the config's APIv3 key and parsed. */
  const resourceOf = (body: string): unknown => {
    const { resource } = JSON.parse(body) as {
      resource: { ciphertext: string; nonce: string; associated_data: string };
    };
    return JSON.parse(
      decryptResource(resource.ciphertext, suite.config.v3!.apiV3Key, resource.nonce, resource.associated_data),
    );
  };
  afterAll(async () => {
    written.remove();
    await suite.close();
  });

  it('holds no secret and is written privately; its folder is removed afterwards', () => {
    const text = renderHookModule();
    for (const secret of [
      suite.config.v2!.apiKey,
      suite.config.v3!.apiV3Key,
      testKeys().publicKey.privateKeyPem.split('\n')[1]!,
    ])
      expect(text).not.toContain(secret);
    expect(statSync(written.dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(written.dir).sort()).toEqual([
      'onResponse.cjs',
      'setupClient.cjs',
      'setupRequest.cjs',
      'wxpay-notify-hooks.cjs',
    ]);
    const other = writeHookModule();
    other.remove();
    expect(existsSync(other.dir)).toBe(false);
  });

  it('builds distinct genuine notifications that verify and decrypt with the Node reference code, amounts as recorded', () => {
    const n = mod.createNotifier(config);
    const sent = Array.from({ length: 40 }, () => n.next(Date.now()));
    expect(new Set(sent.map((s) => s.record.outTradeNo)).size).toBe(40);
    expect(new Set(sent.map((s) => s.record.transactionId)).size).toBe(40);
    expect(new Set(sent.map((s) => `${s.record.version}.${s.record.kind}`)).size).toBe(4);
    const publicKey = testKeys().publicKey.publicKeyPem;
    for (const s of sent) {
      if (s.record.version === 'v3') {
        const h = s.headers;
        // The shapes WeChat sends and the Postman script makes (docs/protocol.md).
        expect(h['Wechatpay-Nonce']).toMatch(/^[A-Za-z0-9]{32}$/);
        expect((JSON.parse(s.body) as { resource: { nonce: string } }).resource.nonce).toMatch(/^[A-Za-z0-9]{12}$/);
        expect(
          verifyV3(
            `${h['Wechatpay-Timestamp']}\n${h['Wechatpay-Nonce']}\n${s.body}\n`,
            h['Wechatpay-Signature']!,
            publicKey,
          ),
        ).toBe(true);
        const resource = resourceOf(s.body) as {
          out_trade_no: string;
          out_refund_no?: string;
          amount: { total: number; refund?: number };
        };
        expect(resource.out_trade_no).toBe(s.record.outTradeNo);
        expect(resource.amount.total).toBe(s.record.total);
        if (s.record.kind === 'refund')
          expect([resource.out_refund_no, resource.amount.refund]).toEqual([s.record.outRefundNo, s.record.refund]);
      } else if (s.record.kind === 'refund') {
        const reqInfo = /<req_info><!\[CDATA\[([^\]]+)\]\]><\/req_info>/.exec(s.body)![1]!;
        const inner = decryptReqInfo(reqInfo, suite.config.v2!.apiKey);
        expect(inner).toContain(`<out_refund_no><![CDATA[${s.record.outRefundNo}]]></out_refund_no>`);
        expect(inner).toContain(`<refund_fee><![CDATA[${s.record.refund}]]></refund_fee>`);
      } else {
        expect(s.body).toMatch(/<nonce_str><!\[CDATA\[[0-9a-f]{32}\]\]><\/nonce_str>/);
        expect(s.body).toContain(`<out_trade_no><![CDATA[${s.record.outTradeNo}]]></out_trade_no>`);
        expect(s.body).toContain(`<total_fee>${s.record.total}</total_fee>`);
      }
    }
  });

  it('repeats a v3 notification as WeChat does: same envelope, re-signed; a v2 one byte for byte', () => {
    const n = mod.createNotifier(notifierConfig(suite.config, { 'v3.pay': 1, 'v2.pay': 1 }));
    const [a, b] = [n.next(Date.now()), n.next(Date.now())];
    for (const s of [a, b]) {
      const again = n.again(s, Date.now() + 2000);
      if (s.record.version === 'v3') {
        expect(again.body).toBe(s.body);
        expect(again.headers['Wechatpay-Nonce']).not.toBe(s.headers['Wechatpay-Nonce']);
        expect(again.headers['Wechatpay-Signature']).not.toBe(s.headers['Wechatpay-Signature']);
      } else {
        expect(again.body).toBe(s.body);
      }
    }
  });

  it("judges an answer as run's judge does (src/judge/answer.ts), cause and message alike", () => {
    const def = CATALOGUE.find((c) => c.id === 'v3.pay.success')!;
    const spec = caseSpec(def, suite.config);
    const answers: [number, string, number][] = [
      [204, '', 20],
      [200, '{"code":"FAIL","message":"no"}', 20],
      [500, 'Duplicate entry for key PRIMARY', 20],
      [200, '<html><body>WAF</body></html>', 20],
      [204, '', 5200],
      [302, '', 20],
    ];
    for (const [status, body, timeMs] of answers) {
      const ours = mod.judgeAnswer(spec, status, body, {}, timeMs, []);
      const checks = judgeAnswer(spec, { code: status, body, headers: {}, timeMs }, []);
      const failing = checks.filter((c) => !c.pass);
      expect(ours.acknowledged).toBe(failing.length === 0);
      expect(ours.cause).toBe(checks[1]!.pass ? (failing[0]?.cause ?? 'ok') : checks[1]!.cause);
      if (failing.length) expect(ours.message).toBe(failing.at(-1)!.message);
    }
    expect(mod.judgeAnswer(spec, 200, '{"code":"FAIL"}', {}, 20, [])).toMatchObject({
      acknowledged: false,
      received: true,
      cause: 'v3-200-code-fail',
    });
  });

  it('judges a repeated answer as it judged the first, and a repeat that turned slow or elsewhere as the judge does', () => {
    const v3 = caseSpec(
      CATALOGUE.find((c) => c.id === 'v3.pay.success')!,
      suite.config,
    );
    const v2 = caseSpec(
      CATALOGUE.find((c) => c.id === 'v2.pay.success')!,
      suite.config,
    );
    const ack = '<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>';
    const secrets = [suite.config.v2!.apiKey];
    const answers: [object, number, string, Record<string, string>, number][] = [
      [v3, 204, '', {}, 20],
      [v3, 204, '', {}, 30],
      [v3, 204, '', {}, 5200],
      [v3, 204, '', {}, 40],
      [v2, 200, ack, {}, 20],
      [v2, 200, ack, {}, 20],
      [v2, 200, ack.replace('SUCCESS', 'FAIL'), {}, 20],
      [v2, 200, `<xml><return_code>FAIL</return_code><key>${secrets[0]}</key></xml>`, {}, 20],
      [v2, 200, `<xml><return_code>FAIL</return_code><key>${secrets[0]}</key></xml>`, {}, 20],
      [v3, 302, '', { location: 'https://a.example/login' }, 20],
      [v3, 302, '', { location: 'https://b.example/login' }, 20],
      [v3, 500, 'Duplicate entry', {}, 20],
      [v3, 500, 'Duplicate entry', {}, 20],
    ];
    const judge = mod.memoJudge(secrets);
    const verdicts = answers.map(([spec, status, body, headers, timeMs]) => judge(spec, status, body, headers, timeMs));
    expect(verdicts).toEqual(
      answers.map(([spec, status, body, headers, timeMs]) =>
        mod.judgeAnswer(spec, status, body, headers, timeMs, secrets),
      ),
    );
    expect(verdicts.map((v) => v.cause)).toEqual([
      'ok',
      'ok',
      'slow',
      'ok',
      'ok',
      'ok',
      'v2-return-code-fail',
      'v2-return-code-fail',
      'v2-return-code-fail',
      'redirect',
      'redirect',
      'duplicate-order',
      'duplicate-order',
    ]);
    expect(verdicts[10]!.message).toContain('b.example');
    expect(verdicts[8]!.message).not.toContain(secrets[0]);
  });

  it("writes each request with the bytes autocannon's own request builder writes, and reads its raw answer headers", () => {
    type Builder = (defaults: object) => (req: object, context: object) => Buffer;
    const requestBuilder = createRequire(import.meta.url)('autocannon/lib/httpRequestBuilder.js') as Builder;
    // As autocannon's run.js passes them: the URL's host (no default port), hostname and port.
    const build = requestBuilder({ host: '127.0.0.1:8080', hostname: '127.0.0.1', port: 8080 });
    const buildDefaultPort = requestBuilder({ host: 'pay.example.com', hostname: 'pay.example.com', port: 443 });
    const notifier = mod.createNotifier(config);
    const sent = [1, 2, 3, 4].map(() => notifier.next(Date.now()));
    // Non-ASCII in a header and the body: lengths are UTF-8 bytes, as on the wire.
    const odd = {
      ...sent[0]!,
      headers: { ...sent[0]!.headers, 'User-Agent': 'Mozilla/4.0 微信支付' },
      body: '{"商户":"x"}',
    };
    const ownHost = { ...sent[1]!, headers: { ...sent[1]!.headers, host: 'notify.example.com' } };
    for (const s of [...sent, odd, ownHost]) {
      const ours = mod.rawRequest('127.0.0.1:8080', s.path, s.headers, s.body);
      const theirs = build({ method: 'POST', path: s.path, headers: s.headers, body: s.body }, {});
      expect(ours.toString('utf8')).toBe(theirs.toString('utf8'));
      expect(ours.equals(theirs)).toBe(true);
    }
    const s0 = sent[0]!;
    expect(mod.rawRequest('pay.example.com', s0.path, s0.headers, s0.body).toString()).toBe(
      buildDefaultPort({ method: 'POST', path: s0.path, headers: s0.headers, body: s0.body }, {}).toString(),
    );
    expect(mod.rawRequest('h:1', '/n', {}, Buffer.from('ab')).toString()).toBe(
      'POST /n HTTP/1.1\r\nHost: h:1\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nab',
    );
    expect(mod.lowerHeaders(['Location', '/a', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'])).toEqual({
      location: '/a',
      'set-cookie': 'a=1, b=2',
    });
  });

  it("fills values as the collection's script does, so a config value's markup or quotes reach the wire as text; v2 from a template parsed once gives the same bytes", () => {
    const valueOf = (vars: Record<string, string>) => (name: string) => {
      if (!(name in vars)) throw new Error(`no ${name}`);
      return vars[name]!;
    };
    const apiKey = suite.config.v2!.apiKey;
    // Inside CDATA "<" and "&" are text and "]]>" is split over two sections; inside a JSON string a
    // quote is escaped. The collection's script does both (src/sandbox/lib/fill-template.js).
    for (const openid of ['oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', '<b>&amp;</b> x', 'a]]>b', 'o", "appid": "wx0']) {
      const n = mod.createNotifier({ ...config, variables: { ...config.variables, openid } });
      const kinds = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const sent = n.next(Date.now());
        const entry = config.mix.find((m) => m.spec === sent.spec)!;
        kinds.add(`${entry.version}.${entry.kind}`);
        if (entry.version === 'v3') {
          const resource = resourceOf(sent.body) as { appid?: string; payer?: { openid: string } };
          if (entry.kind === 'pay') expect(resource.payer!.openid).toBe(openid);
          if (resource.appid !== undefined) expect(resource.appid).toBe(config.variables.appid);
          continue;
        }
        const outer: Record<string, string> = {};
        for (const [k, v] of Object.entries(sent.spec.outer ?? {}))
          outer[k] = mod.SANDBOX.fillTemplate(v, 'text', valueOf(sent.variables));
        expect(sent.body).toBe(
          mod.SANDBOX.buildV2Delivery(
            sent.spec,
            mod.SANDBOX.fillTemplate(entry.template, 'xml', valueOf(sent.variables)),
            apiKey,
            outer,
            sent.variables.wxpay_nonce_str!,
          ).body,
        );
        if (entry.kind === 'pay') expect(mod.SANDBOX.parseFlatXml(sent.body).fields.openid).toBe(openid);
      }
      expect(kinds.size).toBe(4);
    }
  });
});
