import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSuite, type SuiteFixture } from '../support/suite-fixture.js';
import { runWithPostmanRuntime } from '../support/run-with-postman-runtime.js';
import {
  COMMON,
  HEADER_CASES as CASES,
  headerNames as names,
  headerValue as value,
  isV3,
  startHeaderCapture,
  V3_ONLY,
  type HeaderCapture,
  type Seen,
} from '../support/wechat-headers.js';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { runCollection } from '../../src/runner/run-collection.js';

/**
 * What the merchant's server sees on the wire must be what WeChat sends: its headers and nothing
 * Postman adds (Postman-Token, Cache-Control, Accept-Encoding, Connection), under Newman and under
 * the Postman app's engine with the app's defaults (Postman-Token and no-cache headers on). Under
 * Bruno, in both sandboxes: test/e2e/bruno.test.ts.
 */
const POSTMAN_SYSTEM = ['accept-encoding', 'cache-control', 'connection', 'postman-token'];
const APP_DEFAULTS = { implicitCacheControl: true, implicitTraceHeader: true };

describe('the headers a merchant receives', () => {
  let capture: HeaderCapture;
  let seen: Seen[] = [];
  let suite: SuiteFixture;

  beforeAll(async () => {
    capture = await startHeaderCapture();
    seen = capture.seen;
    const url = capture.url;
    suite = await startSuite({ start: async () => ({ url, port: 0, log: [], close: async () => undefined }) });
  });
  afterAll(async () => {
    await suite?.close();
    await capture?.close();
  });

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
    seen.length = 0;
    const run = await runCollection({ collection: collection(), environment: buildEnvironment(suite.config, true) });
    expect(run.deliveries.map((d) => d.verdict)).toEqual(CASES.map(() => 'pass'));
    expectWechatHeaders(seen);
  }, 30_000);

  it("under the Postman app engine with the app's defaults: exactly the same set", async () => {
    seen.length = 0;
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
    seen.length = 0;
    await runCollection({ collection: bare, environment: buildEnvironment(suite.config, true) });
    for (const s of seen) expect(names(s)).toEqual(expect.arrayContaining(POSTMAN_SYSTEM));
    seen.length = 0;
    await runWithPostmanRuntime(bare, buildEnvironment(suite.config, true) as any, { requester: APP_DEFAULTS });
    for (const s of seen) expect(names(s)).toEqual(expect.arrayContaining(POSTMAN_SYSTEM));
  }, 30_000);

  it("concurrent copies sent with pm.sendRequest carry Postman's own headers too (postman-runtime offers no way to drop them there)", async () => {
    seen.length = 0;
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
