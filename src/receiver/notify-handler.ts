import type { IncomingMessage, ServerResponse } from 'node:http';
import { createDispatcher } from './dispatch-notify.js';
import { checkFaults, createSlowdown } from './faults.js';
import { answerLookup } from './lookup-routes.js';
import { notifyRoutes } from './notify-routes.js';
import { decodeUtf8, MAX_BODY_BYTES, readRawBody } from './read-body.js';
import type { HandlerResult, ReceiverLogEntry, ReceiverOptions, ReceiverSteps, RequestHook } from './types.js';
import type { Reply } from './reply.js';
import { keyRingFrom } from './v3-key-ring.js';

export interface NotifyHandlerExtras {
  /** Replace individual verification steps (tests build faulty receivers this way). */
  steps?: ReceiverSteps;
  /** Wrap the answer to each notify request (tests build faulty receivers this way). */
  hook?: RequestHook;
  /** Called with every answered notification, besides `options.log`. */
  record?: (entry: ReceiverLogEntry & { status: number }) => void;
}

/**
 * A Node `http` request handler, and Express/Connect middleware: `http.createServer(handler)` or
 * `app.use(handler)`. Requests to other paths go to `next()` (404 without one).
 */
export type NotifyHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

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

/** What a body parser mounted in front left: raw bytes or text can still be verified, a parsed object cannot. */
function parsedBody(req: IncomingMessage): Buffer | 'parsed' | undefined {
  const body = (req as IncomingMessage & { body?: unknown }).body;
  if (body === undefined || body === null) return undefined;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  // body-parser 1.x sets {} on requests it skipped: their bytes are still unread.
  if (typeof body === 'object' && Object.keys(body).length === 0 && !req.readableEnded) return undefined;
  return 'parsed';
}

/**
 * The reference merchant endpoint as a handler: POST on the configured paths only, body read as raw
 * bytes and decoded once, every request answered (or its connection closed) even when malformed.
 */
export function createNotifyHandler(opts: ReceiverOptions, extras: NotifyHandlerExtras = {}): NotifyHandler {
  const routes = notifyRoutes(opts);
  if (opts.v3) keyRingFrom(opts.v3.publicKeys); // fail now on a bad PEM, not on the first notification
  const { dispatch, reject } = createDispatcher(opts, extras.steps);
  if (opts.faults) checkFaults(opts.faults);
  const given: RequestHook = extras.hook ?? ((_request, next) => next());
  const slowdown = opts.faults?.slowdown && createSlowdown(opts.faults.slowdown);
  const hook: RequestHook = slowdown
    ? async (request, next) => {
        const delay = slowdown(); // the rate is measured when the notification has arrived in full
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        const result = await given(request, next);
        if (!result || delay === 0) return result;
        const slowed = `slowed down by ${delay} ms at the current arrival rate`;
        return {
          ...result,
          log: { ...result.log, fault: result.log.fault ? `${result.log.fault}; ${slowed}` : slowed },
        };
      }
    : given;

  const record = (result: HandlerResult): void => {
    const entry = { ...result.log, status: result.status };
    extras.record?.(entry);
    try {
      opts.log?.(entry);
    } catch (error) {
      // The answer must not turn into a 500 because a log line could not be written, and every
      // request must leave a line: log it again without the notification, saying why.
      try {
        opts.log?.({
          ...entry,
          notification: undefined,
          reason: `${entry.reason ?? ''} (log entry not printable: ${(error as Error).message})`.trim(),
        });
      } catch {
        // The logger itself is broken: the answer still goes out.
      }
    }
  };

  async function answer(req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): Promise<void> {
    // Compare the path as sent (no URL parsing: `new URL('//x', base)` would read x as a host);
    // behind Express the full path is in originalUrl, also when mounted under a prefix.
    const path =
      ((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/').split('?')[0] ?? '/';
    const route = routes.get(path);
    const lookup = !route && opts.records ? answerLookup(opts.records, req.method ?? 'GET', path) : undefined;
    if (lookup) {
      req.resume();
      return send(res, req.method === 'HEAD' ? { ...lookup, body: '' } : lookup);
    }
    if (!route) {
      if (next) return next();
      req.resume();
      return send(res, jsonError(404, `no notify handler at ${path}`));
    }
    if (req.method !== 'POST') {
      req.resume();
      // In the path's own format, like every other refusal on a notify path (v2: XML FAIL).
      const refusal = reject(route, route.version, 405, 'notifications are POSTed');
      return send(res, { ...refusal, headers: { ...refusal.headers, Allow: 'POST' } });
    }

    const given = parsedBody(req);
    if (given === 'parsed') {
      // A JSON/XML parser already replaced the bytes the v3 signature covers: a set-up mistake.
      const result = reject(
        route,
        route.version,
        500,
        'the body was parsed before the notify handler saw it: mount it before body parsers such as express.json(), or give it express.raw()',
      );
      record(result);
      return send(res, result);
    }
    const body = given ?? (await readRawBody(req, MAX_BODY_BYTES));
    if (body === 'too-large' || body.length > MAX_BODY_BYTES) {
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
      result = await hook({ route, headers: req.headers, rawBody, socket: req.socket }, () =>
        dispatch(route, rawBody, req.headers),
      );
    } catch (error) {
      // A bug: refuse (WeChat retries later) and keep the cause in the local log only.
      const refused = reject(route, route.version, 500, 'internal error');
      result = { ...refused, log: { ...refused.log, reason: `internal error: ${(error as Error).message}` } };
    }
    if (!result) return; // the hook answered or closed the connection itself
    record(result);
    send(res, result);
  }

  return (req, res, next) => {
    answer(req, res, next).catch(() => {
      // Only the connection can fail here (the client went away mid-body): nothing is left to
      // answer, and the process must not crash.
      if (!res.headersSent && !res.destroyed) send(res, jsonError(500, 'internal error'));
      else res.destroy();
    });
  };
}
