import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDispatcher } from './dispatch-notify.js';
import { notifyRoutes } from './notify-routes.js';
import { decodeUtf8, MAX_BODY_BYTES, readRawBody } from './read-body.js';
import type { HandlerResult, ReceiverLogEntry, ReceiverOptions, ReceiverSteps, Reply, RequestHook, StartedReceiver } from './types.js';
import { keyRingFrom } from './v3-key-ring.js';

export interface ListenOptions {
  /** Default 127.0.0.1: a test receiver should not be reachable from the network by accident. */
  host?: string;
  /** Default 0: the OS picks a free port (read it from the result). */
  port?: number;
  /** Replace individual verification steps (tests build faulty receivers this way). */
  steps?: ReceiverSteps;
  /** Wrap the answer to each notify request (tests build faulty receivers this way). */
  hook?: RequestHook;
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.contentType) headers['Content-Type'] = reply.contentType;
  res.writeHead(reply.status, headers).end(reply.body);
}

const jsonError = (status: number, message: string, headers?: Record<string, string>): Reply => ({
  status,
  contentType: 'application/json; charset=utf-8',
  headers,
  body: JSON.stringify({ code: 'FAIL', message }),
});

/**
 * Starts the reference merchant endpoint: POST on the configured paths only, body read as raw
 * bytes and decoded once, every request answered (or its connection closed) even when malformed.
 */
export async function startReceiver(opts: ReceiverOptions, listen: ListenOptions = {}): Promise<StartedReceiver> {
  const routes = notifyRoutes(opts);
  if (opts.v3) keyRingFrom(opts.v3.publicKeys); // fail now on a bad PEM, not on the first notification
  const { dispatch, reject } = createDispatcher(opts, listen.steps);
  const hook: RequestHook = listen.hook ?? ((_request, next) => next());
  const log: ReceiverLogEntry[] = [];

  const record = (result: HandlerResult): void => {
    const entry = { ...result.log, status: result.status };
    log.push(entry);
    try {
      opts.log?.(entry);
    } catch (error) {
      // The answer must not turn into a 500 because a log line could not be written, and every
      // request must leave a line: log it again without the notification, saying why.
      try {
        opts.log?.({ ...entry, notification: undefined, reason: `${entry.reason ?? ''} (log entry not printable: ${(error as Error).message})`.trim() });
      } catch {
        // The logger itself is broken: the answer still goes out.
      }
    }
  };

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Compare the path as sent (no URL parsing: `new URL('//x', base)` would read x as a host).
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routes.get(path);
    if (!route) {
      req.resume();
      return send(res, jsonError(404, `no notify handler at ${path}`));
    }
    if (req.method !== 'POST') {
      req.resume();
      // In the path's own format, like every other refusal on a notify path (v2: XML FAIL).
      const refusal = reject(route, route.version, 405, 'notifications are POSTed');
      return send(res, { ...refusal, headers: { ...refusal.headers, Allow: 'POST' } });
    }

    const body = await readRawBody(req, MAX_BODY_BYTES);
    if (body === 'too-large') {
      const result = reject(route, route.version, 413, `body larger than ${MAX_BODY_BYTES} bytes`);
      record(result);
      return send(res, result);
    }
    const rawBody = decodeUtf8(body);
    if (rawBody === undefined) {
      const result = reject(route, route.version, 400, 'body is not valid UTF-8');
      record(result);
      return send(res, result);
    }

    let result: HandlerResult | null;
    try {
      result = await hook({ route, headers: req.headers, rawBody, socket: req.socket }, () => dispatch(route, rawBody, req.headers));
    } catch (error) {
      // A bug: refuse (WeChat retries later) and keep the cause in the local log only.
      const refused = reject(route, route.version, 500, 'internal error');
      result = { ...refused, log: { ...refused.log, reason: `internal error: ${(error as Error).message}` } };
    }
    if (!result) return; // the hook answered or closed the connection itself
    record(result);
    send(res, result);
  }

  const server = createServer((req, res) => {
    answer(req, res).catch(() => {
      // Only the connection can fail here (the client went away mid-body): nothing is left to
      // answer, and the process must not crash.
      if (!res.headersSent && !res.destroyed) send(res, jsonError(500, 'internal error'));
      else res.destroy();
    });
  });
  // Unparseable HTTP: close politely instead of letting the error escape.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const host = listen.host ?? '127.0.0.1';
  await new Promise<void>((resolve, fail) => {
    server.once('error', fail);
    server.listen(listen.port ?? 0, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve, fail) => {
      server.close((error) => (error ? fail(error) : resolve()));
      server.closeAllConnections(); // keep-alive sockets would otherwise hold close() open
    }));

  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port, close, log };
}
