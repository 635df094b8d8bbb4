import type { IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/cases/catalogue.js';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { CASE_HEADER } from '../../src/cases/case-header.js';
import { sandboxScripts } from '../../src/collection/sandbox-scripts.js';
import { demoConfig } from '../../src/commands/demo.js';
import { V2_ACK_XML } from '../../src/protocol/constants.js';
import { buildCase, judge, listCases, type BuiltCase, type NotifyConfig } from '../../src/library/index.js';
import { createNotifyHandler, receiverOptionsFromConfig } from '../../src/library/receiver.js';
import { loadSandboxFunctions } from '../../src/sandbox/bundle.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * buildCase builds every catalogue case the way the collection does: the reference receiver
 * accepts exactly the genuine ones, a receiver that verifies nothing is caught on every forged one,
 * and judge() gives the checks the collection's test script gives. Nothing here names a case id:
 * cases added to the catalogue are covered as they come.
 */
const keys = testKeys();
// Both API versions, both signers, HMAC-SHA256: every requirement a case can have except partner.
const config = demoConfig(keys, 'http://merchant.test', '/nonexistent');

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function answers(handler: Handler, built: BuiltCase): Promise<request.Response[]> {
  const send = (d: BuiltCase['deliveries'][number]) => request(handler).post(built.path).set(d.headers).send(d.body);
  const out = await Promise.all(built.deliveries.slice(0, built.concurrent).map(send));
  for (const d of built.deliveries.slice(built.concurrent)) out.push(await send(d));
  return out;
}

/** Acknowledges anything, the documented way: the handler that verifies nothing. */
const acknowledgeAll: Handler = (req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url?.includes('/v2/') || req.headers['content-type']?.includes('xml'))
      res.writeHead(200, { 'Content-Type': 'text/xml' }).end(V2_ACK_XML);
    else res.writeHead(204).end();
  });
};

describe('listCases', () => {
  it('lists the whole catalogue, or the cases a config can send', () => {
    expect(listCases().map((c) => c.id)).toEqual(CATALOGUE.map((c) => c.id));
    expect(listCases(config).map((c) => c.id)).toEqual(selectCases(config).map((c) => c.id));
    const v3Only: NotifyConfig = {
      appid: 'wx1',
      mchid: '1',
      v3: { ...config.v3!, platform: config.v3!.platform!, platformCertificate: undefined },
    };
    const ids = listCases(v3Only).map((c) => c.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(listCases(v3Only).every((c) => c.needs === 'v3')).toBe(true);
    expect(ids).toEqual(CATALOGUE.filter((c) => c.requires.every((r) => r === 'v3')).map((c) => c.id));
  });
});

describe('buildCase over the whole catalogue', () => {
  const reference = createNotifyHandler(receiverOptionsFromConfig(config));
  const cases = listCases(config);

  it('the config reaches every case of the catalogue', () => {
    expect(cases.map((c) => c.id)).toEqual(CATALOGUE.map((c) => c.id));
  });

  it.each(cases.map((c) => [c.id, c.expect]))('%s: the reference receiver passes it (%s)', async (id) => {
    const built = buildCase(id, config);
    expect(built.url.startsWith('http://merchant.test/')).toBe(true);
    expect(built.deliveries.length).toBeGreaterThan(0);
    for (const res of await answers(reference, built)) {
      const verdict = judge(id, res);
      expect(verdict.pass, verdict.message).toBe(true);
      expect(verdict.cause).toBe('ok');
    }
  });

  it.each(cases.filter((c) => c.expect === 'reject').map((c) => c.id))(
    "%s: a receiver that verifies nothing fails it, with the case's hint",
    async (id) => {
      const built = buildCase(id, config);
      const [res] = await answers(acknowledgeAll, built);
      const verdict = judge(id, res!);
      expect(verdict.pass).toBe(false);
      expect(verdict.cause).toBe('acked-forged');
      expect(verdict.message).toContain(built.hint);
    },
  );

  it('a partner (服务商) config sends sp_/sub_ fields the reference receiver accepts', async () => {
    const partner = {
      ...config,
      partner: {
        spAppid: 'wx8888888888888888',
        spMchid: '1900000100',
        subMchid: '1900000109',
        subAppid: 'wx9999999999999999',
      },
    };
    const handler = createNotifyHandler(receiverOptionsFromConfig(partner));
    for (const c of listCases(partner).filter((k) => k.expect === 'ack')) {
      const built = buildCase(c.id, partner);
      for (const res of await answers(handler, built))
        expect(judge(c.id, res).pass, `${c.id}: ${judge(c.id, res).message}`).toBe(true);
    }
    const refund = buildCase('v2.refund.success', partner).deliveries[0]!.body;
    expect(refund).toContain('<sub_mch_id><![CDATA[1900000109]]></sub_mch_id>');
  });
});

describe('buildCase details', () => {
  it("pins the sending time: timestamps follow `now` and the case's offset", () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    for (const c of listCases(config).filter((k) => k.version === 'v3')) {
      const def = CATALOGUE.find((d) => d.id === c.id)!;
      for (const d of buildCase(c.id, config, { now }).deliveries) {
        if (def.mutate?.dropHeaders?.includes('Wechatpay-Timestamp')) continue;
        if (!d.headers['Content-Type']?.includes('json')) continue; // v2 XML sent to a v3 URL
        expect(Number(d.headers['Wechatpay-Timestamp'])).toBe(now / 1000 + (def.mutate?.timestampOffset ?? 0));
      }
    }
  });

  it('says what is wrong: an unknown id, a case the config cannot send, a config problem', () => {
    expect(() => buildCase('v3.nope', config)).toThrow(/unknown case id "v3.nope"; the case ids are: v2.pay.success/);
    const md5 = { ...config, v2: { ...config.v2!, signType: 'MD5' as const } };
    const needsHmac = CATALOGUE.find((c) => c.requires.includes('v2-hmac'))!;
    expect(() => buildCase(needsHmac.id, md5)).toThrow(
      new RegExp(`case ${needsHmac.id.replace(/\./g, '\\.')} needs v2 HMAC-SHA256 in the config`),
    );
    const bad: NotifyConfig = {
      appid: 'wx1',
      mchid: '1',
      v3: { ...config.v3!, apiV3Key: 'short', platform: { serial: 'PUB_KEY_ID_1' } },
    };
    expect(() => buildCase('v3.pay.success', bad)).toThrow(
      /v3\.apiV3Key: .*32 characters[\s\S]*v3\.platform\.privateKeyPem: is required/,
    );
  });
});

describe('judge', () => {
  // The collection's own test script, loaded as Postman would run it: judge() must agree with it.
  const { judgeResponse } = loadSandboxFunctions(sandboxScripts().test);
  const collection = buildCollection(config, selectCases(config)) as {
    item: { item: { request: { header: { key: string; value: string }[] } }[] }[];
  };
  const specs = collection.item
    .flatMap((f) => f.item)
    .map((i) => JSON.parse(i.request.header.find((h) => h.key === CASE_HEADER)!.value));
  const responses = [
    { code: 204, body: '', headers: {}, timeMs: 12 },
    { code: 200, body: '{"code":"FAIL","message":"x"}', headers: { 'content-type': 'application/json' }, timeMs: 12 },
    { code: 200, body: V2_ACK_XML, headers: { 'content-type': 'text/xml' }, timeMs: 12 },
    { code: 200, body: 'success', headers: {}, timeMs: 12 },
    { code: 401, body: '{"code":"FAIL"}', headers: {}, timeMs: 12 },
    { code: 302, body: '', headers: { location: 'https://elsewhere/' }, timeMs: 12 },
    { code: 204, body: '', headers: {}, timeMs: 6000 },
  ];

  it("gives the checks the collection's test script gives, for every case and answer", () => {
    for (const spec of specs) {
      for (const r of responses) {
        const verdict = judge(spec.id, { status: r.code, text: r.body, headers: r.headers, timeMs: r.timeMs });
        expect(verdict.checks).toEqual(judgeResponse!(spec, r));
        expect(verdict.pass).toBe(verdict.checks.every((c) => c.pass));
      }
    }
  });

  it('reads answers as supertest, Node http and plain objects give them', () => {
    const id = listCases(config).find((c) => c.version === 'v2' && c.expect === 'ack')!.id;
    expect(judge(id, { status: 200, text: V2_ACK_XML, headers: { 'Content-Type': 'text/xml' } }).pass).toBe(true);
    expect(judge(id, { statusCode: 200, body: Buffer.from(V2_ACK_XML) }).pass).toBe(true);
    expect(judge(id, { code: 200, body: '<xml><return_code>FAIL</return_code></xml>' }).cause).toBe(
      'v2-return-code-fail',
    );
    expect(() => judge(id, { text: '' })).toThrow(/no HTTP status/);
  });
});
