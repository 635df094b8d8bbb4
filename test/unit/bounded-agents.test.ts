import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, constants, createGzip, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedAgents, readCutMark } from '../../src/runner/bounded-agents.js';
import { LOADED_MACHINE_SLACK_MS } from '../support/deadlines.js';

/**
 * The agents `run` hands to newman, exercised with plain Node requests: every answer body is cut at
 * the limit (after decompression, so a compression bomb is cut too), a complete answer up to the
 * limit is left alone, and a request without its whole answer by the deadline fails with ETIMEDOUT.
 */
const LIMIT = 64 * 1024;
const XML = '<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>';

/** 32 MiB of zeros, gzipped (about 32 KB), built in 1 MiB steps to keep this test small. */
async function gzipBomb(): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const parts: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => parts.push(chunk));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < 32; i++) if (!gzip.write(zeros)) await new Promise((r) => gzip.once('drain', r));
  await new Promise((r) => gzip.end(r));
  return Buffer.concat(parts);
}

let server: Server;
let base = '';
let bomb: Buffer;
let brBomb: Buffer;
const closed = new Map<string, number>();
const routes: Record<string, (res: ServerResponse) => void> = {
  '/plain-at-limit': (res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end(Buffer.alloc(LIMIT, 'p')),
  '/plain-over': (res) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end(Buffer.alloc(LIMIT + 1, 'q')),
  '/endless': (res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    const chunk = Buffer.alloc(16 * 1024, 'e');
    const pump = (): void => {
      while (!res.destroyed) if (!res.write(chunk)) return void res.once('drain', pump);
    };
    pump();
  },
  '/gzip': (res) => res.writeHead(200, { 'Content-Encoding': 'gzip' }).end(gzipSync(XML)),
  '/deflate': (res) => res.writeHead(200, { 'Content-Encoding': 'deflate' }).end(deflateSync(XML)),
  '/deflate-raw': (res) => res.writeHead(200, { 'Content-Encoding': 'deflate' }).end(deflateRawSync(XML)),
  '/br': (res) => res.writeHead(200, { 'Content-Encoding': 'br' }).end(brotliCompressSync(XML)),
  '/gzip-bomb': (res) => res.writeHead(200, { 'Content-Encoding': 'gzip' }).end(bomb),
  '/br-bomb': (res) => res.writeHead(200, { 'Content-Encoding': 'br' }).end(brBomb),
  '/trickle': (res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '1000' });
    const timer = setInterval(() => res.write('t'), 50);
    res.once('close', () => clearInterval(timer));
  },
};

beforeAll(async () => {
  bomb = await gzipBomb();
  // Compressed once, before the clock of any request starts (quality 11 takes seconds on a busy machine).
  brBomb = brotliCompressSync(Buffer.alloc(8 * 1024 * 1024), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    res.once('close', () => closed.set(req.url ?? '', Date.now()));
    routes[req.url ?? '']!(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);

interface Answer {
  status: number;
  body: Buffer;
  cutAtBytes?: number;
  contentEncoding?: string;
}

function fetchBounded(path: string, deadlineMs = 5_000): Promise<Answer> {
  const agents = boundedAgents({ limitBytes: LIMIT, deadlineMs });
  return new Promise<Answer>((resolve, reject) => {
    const req = request(base + path, { method: 'POST', agent: agents.http }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.once('error', reject);
      res.once('end', () =>
        resolve({
          status: res.statusCode!,
          body: Buffer.concat(parts),
          cutAtBytes: readCutMark(res.statusMessage ?? '').cutAtBytes,
          contentEncoding: res.headers['content-encoding'],
        }),
      );
    });
    req.once('error', reject);
    req.end('<xml/>');
  }).finally(() => agents.close());
}

describe('bounded agents: answer size', () => {
  it('keeps a complete answer of exactly the limit as it is, unmarked', async () => {
    const answer = await fetchBounded('/plain-at-limit');
    expect(answer.body.length).toBe(LIMIT);
    expect(answer.cutAtBytes).toBeUndefined();
  });

  it('cuts one byte over the limit, and says so', async () => {
    const answer = await fetchBounded('/plain-over');
    expect(answer.body.length).toBe(LIMIT);
    expect(answer.cutAtBytes).toBe(LIMIT);
  });

  it('cuts an endless answer and closes its connection', async () => {
    const answer = await fetchBounded('/endless');
    expect(answer.status).toBe(200);
    expect(answer.body.length).toBe(LIMIT);
    expect(answer.cutAtBytes).toBe(LIMIT);
    for (let i = 0; i < 40 && !closed.has('/endless'); i++) await new Promise((r) => setTimeout(r, 25));
    expect(closed.has('/endless')).toBe(true);
  });

  it.each(['/gzip', '/deflate', '/deflate-raw', '/br'])(
    'decodes a small %s answer in full (newman then sees plain bytes)',
    async (path) => {
      const answer = await fetchBounded(path);
      expect(answer.body.toString()).toBe(XML);
      expect(answer.cutAtBytes).toBeUndefined();
      expect(answer.contentEncoding).toBeUndefined();
    },
  );

  it.each(['/gzip-bomb', '/br-bomb'])('cuts a compression bomb (%s) at the limit of decoded bytes', async (path) => {
    const answer = await fetchBounded(path);
    expect(answer.body.length).toBe(LIMIT);
    expect(answer.body.every((b) => b === 0)).toBe(true);
    expect(answer.cutAtBytes).toBe(LIMIT);
  });
});

describe('bounded agents: wall-clock deadline', () => {
  it('fails a body that trickles in (each byte well inside any idle timeout) at the deadline, with ETIMEDOUT', async () => {
    const started = Date.now();
    const error = await fetchBounded('/trickle', 600).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    const elapsed = Date.now() - started;
    expect(error?.code, String(error)).toBe('ETIMEDOUT');
    expect(elapsed).toBeGreaterThanOrEqual(550);
    // The trickle would take 50 s: the 600 ms deadline ended it (with slack for a loaded machine).
    expect(elapsed).toBeLessThan(600 + LOADED_MACHINE_SLACK_MS);
  });
});
