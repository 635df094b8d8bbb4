import { createRequire } from 'node:module';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { NOT_SENT_URL } from '../../src/collection/sandbox-scripts.js';
import { demoConfig } from '../../src/commands/demo.js';
import { parseFlatXml } from '../../src/protocol/v2/flat-xml.js';
import { verifyV2Sign } from '../../src/protocol/v2/sign-fields.js';
import { v3SignMessage, verifyV3 } from '../../src/protocol/v3/sign-message.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * Apifox runs collections in a fork of postman-runtime 7.29, whose `pm` has no `execution` (so no
 * skipRequest), and its runtime cannot be installed from npm (README "Apifox"). This `pm` offers
 * exactly what the collection's pre-request script may use from that era; anything else throws,
 * so a newer API used without a guard fails here.
 */
// pm.iterationData and pm.environment date from Postman 6 (2018), well before runtime 7.29.
const ERA_APIS = new Set([
  'variables',
  'collectionVariables',
  'environment',
  'iterationData',
  'request',
  'test',
  'sendRequest',
]);
const requireHere = createRequire(import.meta.url);

interface Item {
  request: { url: string; header: { key: string; value: string; disabled?: boolean }[]; body: { raw: string } };
}

function runPrerequest(item: Item, values: Record<string, string>, options: { execution?: boolean } = {}) {
  const local = new Map<string, string>();
  const stored = new Map<string, string>();
  const tests: { name: string; pass: boolean; message?: string }[] = [];
  let url = item.request.url;
  let raw = item.request.body.raw;
  let headers = item.request.header.map((h) => ({ ...h }));
  let skipped = false;
  const get = (name: string): string | undefined => (local.has(name) ? local.get(name) : values[name]);
  const pm: Record<string, unknown> = {
    variables: {
      get,
      set: (name: string, value: string) => void local.set(name, value),
      replaceIn: (text: string) => text.replace(/\{\{([^{}]+)\}\}/g, (m, name: string) => get(name) ?? m),
    },
    collectionVariables: {
      get: (name: string) => stored.get(name),
      set: (name: string, value: string) => void stored.set(name, value),
    },
    environment: { has: (name: string) => Object.prototype.hasOwnProperty.call(values, name) },
    iterationData: { has: () => false },
    request: {
      headers: {
        all: () => headers.map((h) => ({ ...h })),
        remove: (name: string) => {
          headers = headers.filter((h) => h.key.toLowerCase() !== name.toLowerCase());
        },
        upsert: (h: { key: string; value: string }) => {
          headers = [...headers.filter((x) => x.key.toLowerCase() !== h.key.toLowerCase()), h];
        },
      },
      body: {
        get raw() {
          return raw;
        },
        update: (text: string) => {
          raw = text;
        },
      },
      url: {
        toString: () => url,
        update: (next: string) => {
          url = next;
        },
      },
    },
    test: (name: string, fn: () => void) => {
      try {
        fn();
        tests.push({ name, pass: true });
      } catch (e) {
        tests.push({ name, pass: false, message: (e as Error).message });
      }
    },
    sendRequest: () => {
      throw new Error('no concurrent cases in these tests');
    },
  };
  if (options.execution) {
    ERA_APIS.add('execution');
    pm.execution = {
      skipRequest: () => {
        skipped = true;
      },
    };
  }
  const strictPm = new Proxy(pm, {
    get(target, name) {
      if (typeof name === 'string' && ERA_APIS.has(name)) return target[name];
      if (name === 'execution') return undefined;
      throw new TypeError(`pm.${String(name)} does not exist in postman-runtime 7.29`);
    },
  });
  const errors: string[] = [];
  return {
    run(script: string) {
      vm.runInNewContext(script, {
        pm: strictPm,
        Buffer,
        require: (name: string) => {
          if (name === 'crypto-js') return requireHere('crypto-js');
          throw new Error(`require('${name}') is not offered`);
        },
        console: { error: (...m: unknown[]) => errors.push(m.join(' ')), log: () => {} },
      });
      ERA_APIS.delete('execution');
      return { url, raw, headers, tests, skipped, errors };
    },
  };
}

function setUp(only: string[], withSecrets: boolean) {
  const keys = testKeys();
  const config = demoConfig(keys, 'http://127.0.0.1:1', '/nonexistent');
  const collection = buildCollection(config, selectCases(config, { only })) as any;
  const script = (collection.event as any[]).find((e) => e.listen === 'prerequest').script.exec.join('\n');
  const values: Record<string, string> = {};
  for (const v of collection.variable as { key: string; value: string }[]) values[v.key] = v.value;
  for (const v of (buildEnvironment(config, withSecrets) as any).values as { key: string; value: string }[])
    values[v.key] = v.value;
  const request = collection.item[0].item[0].request;
  const template: string = typeof request.url === 'string' ? request.url : request.url.host.join('.');
  // The runtime resolves the URL's variables; the script sees the resolved URL.
  const url = template.replace(/\{\{(\w+)\}\}/g, (_m: string, name: string) => values[name] ?? '');
  return { keys, script, values, item: { request: { url, header: request.header, body: request.body } } as Item };
}

describe('the pre-request script in a 7.29-era runtime (pm without execution, as in Apifox)', () => {
  it('without the APIv3 key: fails a test naming v3_api_key, sends an empty body to an unresolvable host, throws nothing', () => {
    const { script, values, item } = setUp(['v3.pay.success'], false);
    const result = runPrerequest(item, values).run(script);
    expect(result.tests).toHaveLength(1);
    expect(result.tests[0]).toMatchObject({ pass: false });
    expect(result.tests[0]!.name).toContain('not sent (未发送): APIv3 key (APIv3密钥) is empty: set "v3_api_key"');
    expect(result.tests[0]!.message).toContain('v3.pay.success: nothing was sent');
    expect(result.url).toBe(NOT_SENT_URL);
    expect(new URL(result.url).hostname.endsWith('.invalid')).toBe(true);
    expect(result.raw).toBe('');
    expect(result.headers.some((h) => /^Wechatpay-/i.test(h.key))).toBe(false);
    expect(result.errors.join('\n')).toContain('v3.pay.success: not sent');
  });

  it('without the APIv2 key: the same, naming v2_api_key', () => {
    const { script, values, item } = setUp(['v2.pay.success'], false);
    const result = runPrerequest(item, values).run(script);
    expect(result.tests.map((t) => [t.pass, t.name])).toEqual([[false, expect.stringContaining('"v2_api_key"')]]);
    expect([result.url, result.raw]).toEqual([NOT_SENT_URL, '']);
  });

  it('where pm.execution exists, the request is skipped instead and the URL left alone', () => {
    const { script, values, item } = setUp(['v3.pay.success'], false);
    const result = runPrerequest(item, values, { execution: true }).run(script);
    expect(result.skipped).toBe(true);
    expect(result.tests.map((t) => t.pass)).toEqual([false]);
    expect(result.url).toBe(item.request.url);
  });

  it('with every secret: signs using only the APIs of that era (v2 sign and v3 signature verify in Node)', () => {
    const v2 = setUp(['v2.pay.success'], true);
    const signedV2 = runPrerequest(v2.item, v2.values).run(v2.script);
    expect(signedV2.tests).toEqual([]);
    expect(signedV2.url).toBe(v2.item.request.url);
    expect(verifyV2Sign(parseFlatXml(signedV2.raw).fields, v2.keys.apiKey)).toBe(true);

    const v3 = setUp(['v3.pay.success'], true);
    const signedV3 = runPrerequest(v3.item, v3.values).run(v3.script);
    expect(signedV3.tests).toEqual([]);
    const header = (name: string): string => signedV3.headers.find((h) => h.key === name)!.value;
    const message = v3SignMessage(header('Wechatpay-Timestamp'), header('Wechatpay-Nonce'), signedV3.raw);
    expect(verifyV3(message, header('Wechatpay-Signature'), v3.keys.publicKey.publicKeyPem)).toBe(true);
  });
});
