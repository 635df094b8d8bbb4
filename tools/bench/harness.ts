import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import newman from 'newman';
import { demoConfig } from '../../src/commands/demo.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import { generateTestKeys, type TestKeys } from '../../src/keys/generate-keys.js';
import { receiverOptionsFromConfig } from '../../src/receiver/from-config.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import type { StartedReceiver } from '../../src/receiver/types.js';
import type { BenchRow } from './render-bench.js';

/** A loopback server that reads the body and answers 204: the cheapest possible merchant. */
export interface TrivialServer {
  url: string;
  /** Bodies received, in order (kept so scripts can report results through the request body). */
  bodies: string[];
  close(): Promise<void>;
}

export async function startTrivialServer(): Promise<TrivialServer> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One request as it went on the wire, minus the headers newman adds itself (it adds them again). */
export interface CapturedRequest {
  itemId: string;
  url: string;
  method: string;
  headers: { key: string; value: string }[];
  body: string;
  status?: number;
}

export interface TimedRun {
  /** newman.run call to its callback. */
  wallMs: number;
  /** First item started to last item finished: the steady part, without newman's start-up. */
  activeMs: number;
  /** Requests that went out (pm.sendRequest copies are not counted). */
  requests: number;
  /** Requests without an answer. */
  transportErrors: number;
  captured: CapturedRequest[];
}

export interface TimedRunOptions {
  collection: Record<string, unknown>;
  environment?: Record<string, unknown>;
  iterationData?: Record<string, unknown>[];
  iterationCount?: number;
  /** Keep every request sent (url, headers, body, status). */
  capture?: boolean;
}

/**
 * Runs a collection with newman in this process, through the same thin wrapper for every side of
 * a comparison (no reporters, no judging in Node), and times it.
 */
export function runTimed(options: TimedRunOptions): Promise<TimedRun> {
  const captured: CapturedRequest[] = [];
  let requests = 0;
  let transportErrors = 0;
  let firstStart: number | undefined;
  let lastEnd = 0;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const emitter = newman.run(
      {
        collection: options.collection as any,
        environment: options.environment as any,
        iterationData: options.iterationData as any,
        iterationCount: options.iterationCount,
        reporters: [],
        timeoutRequest: 10_000,
        ignoreRedirects: true,
      } as any,
      (err: Error | null) => {
        if (err) return reject(err);
        const end = performance.now();
        resolve({
          wallMs: end - started,
          activeMs: lastEnd - (firstStart ?? started),
          requests,
          transportErrors,
          captured,
        });
      },
    );
    emitter.on('beforeItem', () => {
      firstStart ??= performance.now();
    });
    emitter.on('item', () => {
      lastEnd = performance.now();
    });
    emitter.on('request', (err: unknown, args: any) => {
      requests++;
      if (err) transportErrors++;
      if (!options.capture) return;
      const request = args.request;
      captured.push({
        itemId: String(args.item?.id ?? ''),
        url: request.url.toString(),
        method: request.method,
        headers: (request.headers.all() as any[])
          .filter((h) => !h.disabled && !h.system)
          .map((h) => ({ key: String(h.key), value: String(h.value) })),
        body: request.body?.raw ?? '',
        status: err ? undefined : args.response?.code,
      });
    });
  });
}

/** Per-request cost of a timed run: the steady part divided by the requests sent. */
export function perRequestMs(run: TimedRun): number {
  return run.requests > 0 ? run.activeMs / run.requests : Number.NaN;
}

/** A bare collection: one folder-less list of items, no variables, no scripts. */
export function plainCollection(name: string, items: unknown[], event: unknown[] = []): Record<string, unknown> {
  return {
    info: { name, schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json' },
    event,
    item: items,
  };
}

/** The request of a captured delivery, literally: what a no-script collection sends instead. */
export function literalItem(request: CapturedRequest, id: string): Record<string, unknown> {
  return {
    id,
    name: id,
    request: {
      method: request.method,
      url: request.url,
      header: request.headers,
      body: { mode: 'raw', raw: request.body },
    },
    protocolProfileBehavior: { followRedirects: false },
  };
}

/** A prerequest or test event around a script text. */
export function scriptEvent(listen: 'prerequest' | 'test', script: string): Record<string, unknown> {
  return { listen, script: { type: 'text/javascript', exec: script.split('\n') } };
}

/**
 * What every measure shares: one set of fresh TEST keys, the reference receiver and a trivial
 * 204 server on loopback, and the demo config aimed at either.
 */
export interface BenchContext {
  quick: boolean;
  keys: TestKeys;
  dir: string;
  receiver: StartedReceiver;
  trivial: TrivialServer;
  /** The demo config aimed at the reference receiver. */
  receiverConfig: ResolvedConfig;
  /** The same config aimed at the trivial 204 server. */
  trivialConfig: ResolvedConfig;
  close(): Promise<void>;
}

export async function createBenchContext(quick: boolean): Promise<BenchContext> {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-bench-'));
  const keys = generateTestKeys();
  // As the demo does: bind with a placeholder config, then aim the config at the port the OS picked.
  const receiver = await startReceiver(receiverOptionsFromConfig(demoConfig(keys, 'http://127.0.0.1:0', dir)), {
    host: '127.0.0.1',
    port: 0,
  });
  const trivial = await startTrivialServer();
  return {
    quick,
    keys,
    dir,
    receiver,
    trivial,
    receiverConfig: demoConfig(keys, receiver.url, dir),
    trivialConfig: demoConfig(keys, trivial.url, dir),
    close: async () => {
      await Promise.all([receiver.close(), trivial.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Result of one measure: its rows and how they were obtained. */
export interface MeasureResult {
  rows: BenchRow[];
  notes: string[];
}
