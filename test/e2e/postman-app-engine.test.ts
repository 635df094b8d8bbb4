import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { startSuite, type SuiteFixture } from '../support/suite-fixture.js';
import { runWithPostmanRuntime } from '../support/run-with-postman-runtime.js';

describe('the generated collection in the Postman app engine (latest postman-runtime, postman-sandbox 6)', () => {
  let suite: SuiteFixture;
  beforeAll(async () => {
    suite = await startSuite();
  });
  afterAll(async () => {
    await suite?.close();
  });

  it('passes every case, v2 and v3, against the reference receiver', async () => {
    const cases = selectCases(suite.config);
    const collection = buildCollection(suite.config, cases);
    const result = await runWithPostmanRuntime(collection, buildEnvironment(suite.config, true) as any);
    expect(result.sandboxVersion.startsWith('6.')).toBe(true);
    expect(result.consoleErrors).toEqual([]);
    expect(result.noResponse).toEqual([]);
    const failures = [...result.items].flatMap(([item, list]) =>
      list.filter((a) => !a.passed).map((a) => `${item}: ${a.name}: ${a.error}`),
    );
    expect(failures).toEqual([]);
    // Every request was judged (two checks at least), so a silent script failure cannot pass.
    const itemCount = cases.reduce((n, c) => n + (c.copies ?? 1), 0);
    expect(result.items.size).toBe(itemCount);
    for (const list of result.items.values()) expect(list.length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
