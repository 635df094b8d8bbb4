import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface AppEngineResult {
  /** Item name → assertions (name, passed, error message). */
  items: Map<string, { name: string; passed: boolean; error?: string }[]>;
  /** Item names whose request errored or was skipped (no response). */
  noResponse: string[];
  consoleErrors: string[];
  /** Every request the runtime made: where to, with which body, and its transport error if any. */
  requests: { name: string; url: string; body: string; error?: string }[];
  sandboxVersion: string;
}

/**
 * Runs a collection JSON through the newest postman-runtime (the engine of the Postman app, with
 * postman-sandbox 6), not newman's: proof that import-and-Send works in the app.
 */
export function runWithPostmanRuntime(
  collectionJson: unknown,
  environmentJson: { values: { key: string; value: string }[] },
  /**
   * `requester`: extra requester options, e.g. the app's defaults { implicitCacheControl: true,
   * implicitTraceHeader: true }; `run`: extra run options, e.g. `network.hostLookup` to keep a test's
   * lookups off DNS.
   */
  options: { requester?: Record<string, unknown>; run?: Record<string, unknown> } = {},
): Promise<AppEngineResult> {
  const runtime = require('postman-runtime');
  const sdk = require('postman-collection') as typeof import('postman-collection');
  const sandboxVersion = require('postman-sandbox/package.json').version as string;
  const collection = new sdk.Collection(collectionJson as any);
  const environment = new sdk.VariableScope({ values: environmentJson.values } as any);
  const items = new Map<string, { name: string; passed: boolean; error?: string }[]>();
  const responded = new Set<string>();
  const seen: string[] = [];
  const nameOf = new Map<string, string>();
  const consoleErrors: string[] = [];
  const requests: AppEngineResult['requests'] = [];
  return new Promise((resolve, reject) => {
    new runtime.Runner().run(
      collection,
      {
        environment,
        timeout: { request: 6500 },
        requester: { followRedirects: false, ...options.requester },
        ...options.run,
      },
      (err: Error | null, run: any) => {
        if (err) return reject(err);
        run.start({
          beforeItem: (_e: unknown, cursor: any, item: any) => {
            seen.push(item.name);
            nameOf.set(cursor.ref, item.name);
          },
          response: (e: unknown, _c: unknown, response: any, _r: unknown, item: any) => {
            if (!e && response) responded.add(item.name);
          },
          request: (e: any, _c: unknown, _response: unknown, request: any, item: any) => {
            requests.push({
              name: item.name,
              url: request.url.toString(),
              body: request.body?.raw ?? '',
              ...(e ? { error: String(e.code ?? e.message) } : {}),
            });
          },
          assertion: (cursor: any, assertions: any[]) => {
            const name = nameOf.get(cursor.ref) ?? '?';
            const list = items.get(name) ?? [];
            for (const a of assertions)
              list.push({ name: a.name, passed: a.passed && !a.skipped, error: a.error?.message });
            items.set(name, list);
          },
          console: (_c: unknown, level: string, ...messages: unknown[]) => {
            if (level === 'error') consoleErrors.push(messages.join(' '));
          },
          done: (e: Error | null) =>
            e
              ? reject(e)
              : resolve({
                  items,
                  noResponse: seen.filter((n) => !responded.has(n)),
                  consoleErrors,
                  requests,
                  sandboxVersion,
                }),
        });
      },
    );
  });
}
