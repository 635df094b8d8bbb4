import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSuite, type SuiteFixture } from '../support/suite-fixture.js';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { runCollection } from '../../src/runner/run-collection.js';

/** What a Postman user does: edit a field in the request body, press Send. */
describe('edit a body and send', () => {
  let suite: SuiteFixture;
  beforeAll(async () => {
    suite = await startSuite();
  });
  afterAll(async () => {
    await suite?.close();
  });

  function collectionWith(only: string[], edit: (raw: string) => string) {
    const collection = buildCollection(suite.config, selectCases(suite.config, { only })) as any;
    for (const folder of collection.item)
      for (const item of folder.item) item.request.body.raw = edit(item.request.body.raw);
    return collection;
  }

  it('an edited v2 total_fee is signed at send time and the receiver accepts it', async () => {
    const collection = collectionWith(['v2.pay.success'], (raw) =>
      raw.replace('<total_fee>{{total}}</total_fee>', '<total_fee>888</total_fee>'),
    );
    const run = await runCollection({ collection, environment: buildEnvironment(suite.config, true) });
    expect(run.deliveries.map((d) => d.verdict)).toEqual(['pass']);
    const seen = suite.receiver.log.at(-1)!;
    expect(seen.outcome).toBe('ack');
    expect((seen.notification as Record<string, string>).total_fee).toBe('888');
  }, 30_000);

  it('an edited v3 resource is encrypted and signed at send time and decrypts to the edit', async () => {
    const collection = collectionWith(['v3.pay.success'], (raw) =>
      raw.replace('"total": {{total}},', '"total": 4242,').replace('"attach": ""', '"attach": "手工修改"'),
    );
    const run = await runCollection({ collection, environment: buildEnvironment(suite.config, true) });
    expect(run.deliveries.map((d) => d.verdict)).toEqual(['pass']);
    const resource = suite.receiver.log.at(-1)!.notification as { amount: { total: number }; attach: string };
    expect(resource.amount.total).toBe(4242);
    expect(resource.attach).toBe('手工修改');
  }, 30_000);

  it('an unknown {{variable}} is not sent unsigned: the case is reported as skipped, with the reason', async () => {
    const collection = collectionWith(['v3.pay.success'], (raw) => raw.replace('"JSAPI"', '"{{trade_type_typo}}"'));
    const run = await runCollection({ collection, environment: buildEnvironment(suite.config, true) });
    expect(run.deliveries).toHaveLength(1);
    expect(run.deliveries[0]).toMatchObject({ caseId: 'v3.pay.success', verdict: 'skipped', cause: 'skipped' });
    expect(run.deliveries[0]!.error).toContain('variable "trade_type_typo" is not set');
  }, 30_000);

  it('an environment without secrets (--no-secrets) skips every case and says which secret is missing', async () => {
    const collection = buildCollection(
      suite.config,
      selectCases(suite.config, { only: ['v2.pay.success', 'v3.pay.success'] }),
    );
    const run = await runCollection({ collection, environment: buildEnvironment(suite.config, false) });
    expect(run.deliveries.map((d) => [d.caseId, d.verdict])).toEqual([
      ['v2.pay.success', 'skipped'],
      ['v3.pay.success', 'skipped'],
    ]);
    expect(run.deliveries[0]!.error).toContain('APIv2 key (APIv2密钥) is empty');
    expect(run.deliveries[1]!.error).toContain('APIv3 key (APIv3密钥) is empty');
  }, 30_000);
});
