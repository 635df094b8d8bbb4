import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { NOT_SENT_URL } from '../../src/collection/sandbox-scripts.js';
import { startSuite, type SuiteFixture } from '../support/suite-fixture.js';
import { runWithPostmanRuntime } from '../support/run-with-postman-runtime.js';

const NEWMAN_BIN = join(import.meta.dirname, '../../node_modules/newman/bin/newman.js');

/** The collection's pre-request script run with a `pm` that has no `execution`, as in postman-runtime 7.29 and Apifox. */
function withoutExecution(collection: any): any {
  const event = collection.event.find((e: any) => e.listen === 'prerequest');
  event.script.exec = [
    '(function (pm) {',
    ...event.script.exec,
    '})(Object.create(pm, { execution: { value: undefined } }));',
  ];
  return collection;
}

/** The decoy host resolves to loopback here, so the test makes no DNS query. */
const NO_DNS = {
  network: { hostLookup: { type: 'hostIpMap', hostIpMap: { [new URL(NOT_SENT_URL).hostname]: '127.0.0.1' } } },
};

describe('a notification that cannot be signed is never sent, and the run fails saying why', () => {
  let suite: SuiteFixture;
  let dir: string;
  beforeAll(async () => {
    suite = await startSuite();
    dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-not-sent-'));
  });
  afterAll(async () => {
    await suite?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('plain `newman run` with a --no-secrets environment exits 1, names the missing variables and sends nothing', async () => {
    const cases = selectCases(suite.config);
    writeFileSync(join(dir, 'c.json'), JSON.stringify(buildCollection(suite.config, cases)));
    writeFileSync(join(dir, 'e.json'), JSON.stringify(buildEnvironment(suite.config, false)));
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          NEWMAN_BIN,
          'run',
          'c.json',
          '-e',
          'e.json',
          '--reporters',
          'cli,json',
          '--reporter-json-export',
          'r.json',
          '--color',
          'off',
        ],
        { cwd: dir, timeout: 60_000 },
        (err, stdout) => resolve({ code: err ? Number((err as any).code) : 0, stdout }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('not sent (未发送): APIv2 key (APIv2密钥) is empty: set "v2_api_key"');
    expect(result.stdout).toContain('not sent (未发送): APIv3 key (APIv3密钥) is empty: set "v3_api_key"');
    const stats = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')).run.stats;
    const items = cases.reduce((n, c) => n + (c.copies ?? 1), 0);
    expect(stats.requests.total).toBe(0);
    expect(stats.assertions).toMatchObject({ total: items, failed: items });
    expect(suite.receiver.log).toEqual([]);
  }, 60_000);

  it('the Postman app engine (latest postman-runtime, with pm.execution) skips the request and shows one failed test naming the variable', async () => {
    const cases = selectCases(suite.config, { only: ['v2.pay.success', 'v3.pay.success'] });
    const result = await runWithPostmanRuntime(
      buildCollection(suite.config, cases),
      buildEnvironment(suite.config, false) as any,
    );
    expect([...result.items.values()].map((list) => list.map((a) => [a.passed, a.name.match(/"(\w+)"/)?.[1]]))).toEqual(
      [[[false, 'v2_api_key']], [[false, 'v3_api_key']]],
    );
    expect(result.requests).toEqual([]);
    expect(suite.receiver.log).toEqual([]);
  }, 60_000);

  it('postman-runtime without pm.execution (as in Apifox): one failed test per request naming the variable; only empty decoys go out', async () => {
    const cases = selectCases(suite.config, { only: ['v2.pay.success', 'v3.pay.success', 'v3.redelivery.sequential'] });
    const collection = withoutExecution(buildCollection(suite.config, cases));
    const result = await runWithPostmanRuntime(collection, buildEnvironment(suite.config, false) as any, {
      run: NO_DNS,
    });
    const assertions = [...result.items].map(([item, list]) => [
      item.split(' ')[0],
      list.map((a) => [a.passed, a.name.match(/"(\w+)"/)?.[1]]),
    ]);
    expect(assertions).toEqual([
      ['v2.pay.success', [[false, 'v2_api_key']]],
      ['v3.pay.success', [[false, 'v3_api_key']]],
      ['v3.redelivery.sequential', [[false, 'v3_api_key']]],
      // The second copy cannot repeat a first copy that was never built: it says so.
      ['v3.redelivery.sequential', [[false, undefined]]],
    ]);
    expect(result.items.get([...result.items.keys()][3]!)![0]!.name).toContain('send copy 1 first');
    expect(result.requests.map((r) => [r.url, r.body])).toEqual(Array.from({ length: 4 }, () => [NOT_SENT_URL, '']));
    expect(suite.receiver.log).toEqual([]);
  }, 60_000);

  it('postman-runtime without pm.execution, with every secret: every case passes (nothing else needs pm.execution)', async () => {
    const cases = selectCases(suite.config);
    const result = await runWithPostmanRuntime(
      withoutExecution(buildCollection(suite.config, cases)),
      buildEnvironment(suite.config, true) as any,
    );
    const failures = [...result.items].flatMap(([item, list]) =>
      list.filter((a) => !a.passed).map((a) => `${item}: ${a.name}: ${a.error}`),
    );
    expect(failures).toEqual([]);
    expect(result.items.size).toBe(cases.reduce((n, c) => n + (c.copies ?? 1), 0));
    expect(result.requests.every((r) => !r.url.startsWith(NOT_SENT_URL))).toBe(true);
  }, 90_000);
});
