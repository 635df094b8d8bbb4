import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSuite, type SuiteFixture } from '../support/suite-fixture.js';
import { runWithPostmanRuntime } from '../support/run-with-postman-runtime.js';
import { runWithBruno } from '../support/run-with-bruno.js';
import { printSeedOnFailure, seededStream } from '../support/seeded-random.js';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { runCollection } from '../../src/runner/run-collection.js';
import { V2_ACK_XML } from '../../src/protocol/constants.js';

/**
 * What the merchant's server sees on the wire must be what WeChat sends: its headers and nothing
 * Postman adds (Postman-Token, Cache-Control, Accept-Encoding, Connection), under Newman and under
 * the Postman app's engine with the app's defaults (Postman-Token and no-cache headers on).
 */
interface Seen {
  path: string;
  rawHeaders: string[];
}

const CASES = ['v2.pay.success', 'v2.refund.success', 'v3.pay.success', 'v3.refund.success', 'v3.refund.manual-xml'];
const COMMON = ['accept', 'content-length', 'content-type', 'host', 'pragma', 'user-agent'];
const V3_ONLY = [
  'request-id',
  'wechatpay-nonce',
  'wechatpay-serial',
  'wechatpay-signature',
  'wechatpay-signature-type',
  'wechatpay-timestamp',
];
const POSTMAN_SYSTEM = ['accept-encoding', 'cache-control', 'connection', 'postman-token'];
const APP_DEFAULTS = { implicitCacheControl: true, implicitTraceHeader: true };

describe('the headers a merchant receives', () => {
  let seen: Seen[] = [];
  let server: Server;
  let suite: SuiteFixture;

  beforeAll(async () => {
    // Records every request as it arrived and acknowledges it; verification is not the point here.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push({ path: req.url ?? '', rawHeaders: req.rawHeaders });
        if (req.url?.includes('/v2/') || req.headers['content-type'] === 'text/xml')
          res.writeHead(200, { 'Content-Type': 'text/xml' }).end(V2_ACK_XML);
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    suite = await startSuite({ start: async () => ({ url, port: 0, log: [], close: async () => undefined }) });
  });
  afterAll(async () => {
    await suite?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const names = (s: Seen): string[] =>
    s.rawHeaders
      .filter((_, i) => i % 2 === 0)
      .map((n) => n.toLowerCase())
      .sort();
  const value = (s: Seen, name: string): string | undefined => {
    const at = s.rawHeaders.findIndex((n, i) => i % 2 === 0 && n.toLowerCase() === name);
    return at < 0 ? undefined : s.rawHeaders[at + 1];
  };
  const isV3 = (s: Seen): boolean => value(s, 'wechatpay-signature') !== undefined;

  function expectWechatHeaders(requests: Seen[]): void {
    expect(requests.length).toBe(CASES.length);
    for (const s of requests) {
      const v3 = isV3(s);
      expect(names(s), s.path).toEqual([...COMMON, ...(v3 ? V3_ONLY : [])].sort());
      expect(value(s, 'user-agent')).toBe('Mozilla/4.0');
      expect(value(s, 'accept')).toBe('*/*');
      expect(value(s, 'pragma')).toBe('no-cache');
      expect(value(s, 'content-type')).toBe(v3 ? 'application/json' : 'text/xml');
      if (v3) expect(value(s, 'request-id')).toMatch(/^[0-9A-F]{40}-0$/);
    }
    expect(requests.filter(isV3)).toHaveLength(2);
  }

  const collection = () => buildCollection(suite.config, selectCases(suite.config, { only: CASES }));

  it("under Newman: exactly WeChat's header set, v2 and v3", async () => {
    seen = [];
    const run = await runCollection({ collection: collection(), environment: buildEnvironment(suite.config, true) });
    expect(run.deliveries.map((d) => d.verdict)).toEqual(CASES.map(() => 'pass'));
    expectWechatHeaders(seen);
  }, 30_000);

  it("under the Postman app engine with the app's defaults: exactly the same set", async () => {
    seen = [];
    const result = await runWithPostmanRuntime(collection(), buildEnvironment(suite.config, true) as any, {
      requester: APP_DEFAULTS,
    });
    expect(result.noResponse).toEqual([]);
    expectWechatHeaders(seen);
  }, 30_000);

  it("without the collection's disabledSystemHeaders, both engines would add Postman's own headers", async () => {
    const bare = collection() as { item: { item: { protocolProfileBehavior: Record<string, unknown> }[] }[] };
    for (const folder of bare.item)
      for (const item of folder.item) delete item.protocolProfileBehavior.disabledSystemHeaders;
    seen = [];
    await runCollection({ collection: bare, environment: buildEnvironment(suite.config, true) });
    for (const s of seen) expect(names(s)).toEqual(expect.arrayContaining(POSTMAN_SYSTEM));
    seen = [];
    await runWithPostmanRuntime(bare, buildEnvironment(suite.config, true) as any, { requester: APP_DEFAULTS });
    for (const s of seen) expect(names(s)).toEqual(expect.arrayContaining(POSTMAN_SYSTEM));
  }, 30_000);

  // Bruno's client adds request-start-time (its own clock: the response time is read from it) and
  // Connection: keep-alive, and drops neither on request (@usebruno/cli src/utils/axios-instance.js);
  // the Accept-Encoding it adds is deleted by the glue. docs/bruno.md lists what remains.
  // The client is the same in both sandboxes; only the glue's req.deleteHeader runs in the sandbox.
  // Each run checks one sandbox, chosen by WXPAY_TEST_SEED (printed on failure): both over runs, at
  // the cost of one `bru` start-up instead of two (bruno.test.ts runs the glue in both every time).
  const brunoSandbox = seededStream('wechat-headers: Bruno sandbox').pick(['safe', 'developer'] as const);
  it.each([brunoSandbox])(
    "under Bruno (%s sandbox, chosen by the seed): WeChat's header set plus only request-start-time and Connection",
    async (sandbox) => {
      printSeedOnFailure();
      seen = [];
      const run = await runWithBruno(suite.config, { sandbox, only: CASES });
      expect(run.failing).toEqual([]);
      expect(seen.length).toBe(CASES.length);
      for (const s of seen) {
        const v3 = isV3(s);
        expect(names(s), s.path).toEqual(
          [...COMMON, ...(v3 ? V3_ONLY : []), 'connection', 'request-start-time'].sort(),
        );
        expect(value(s, 'connection')).toBe('keep-alive');
        expect(value(s, 'request-start-time')).toMatch(/^\d{13}$/);
        expect(value(s, 'user-agent')).toBe('Mozilla/4.0');
        expect(value(s, 'accept')).toBe('*/*');
      }
    },
    120_000,
  );

  it("concurrent copies sent with pm.sendRequest carry Postman's own headers too (postman-runtime offers no way to drop them there)", async () => {
    seen = [];
    await runCollection({
      collection: buildCollection(suite.config, selectCases(suite.config, { only: ['v3.redelivery.concurrent'] })),
      environment: buildEnvironment(suite.config, true),
    });
    expect(seen).toHaveLength(4);
    const exact = seen.filter((s) => !names(s).includes('postman-token'));
    const copies = seen.filter((s) => names(s).includes('postman-token'));
    expect(exact).toHaveLength(1);
    expect(names(exact[0]!)).toEqual([...COMMON, ...V3_ONLY].sort());
    for (const s of copies) expect(names(s)).toEqual([...COMMON, ...V3_ONLY, ...POSTMAN_SYSTEM].sort());
  }, 30_000);
});
