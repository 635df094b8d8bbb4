import { Agent as HttpAgent, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Transform } from 'node:stream';
import {
  constants as zlibConstants,
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
} from 'node:zlib';

/**
 * HTTP agents for newman (its `requestAgents` option) that hold every request of one run to two
 * bounds, whatever the receiver does:
 *
 * - a wall-clock deadline from sending the request to the last byte of the answer. Newman's own
 *   `timeoutRequest` is an idle timer: headers or a body trickled one byte a second never trip it.
 * - a bounded answer: only the first `limitBytes` of the body (after decompression) are kept; then
 *   the connection is closed and the answer ends there, so newman judges the prefix. Newman itself
 *   buffers whole answers, and an endless one exhausts memory.
 *
 * Both work on the Node request the agent is handed, below newman and postman-runtime, so they
 * hold for the notification and for the concurrent copies its script sends (pm.sendRequest).
 * `close()` ends whatever is still in flight: a run that is over must not be kept alive.
 */

/**
 * Appended to the status text of an answer whose body was cut, with the bytes kept: the status text
 * is the one field postman-runtime reads from the Node response when the body has ended (headers
 * were copied when they arrived). The runner reads it back and removes it.
 */
export const CUT_MARK = ' [wxpay-notify: body cut at ';

/** The bytes kept, when `statusText` carries the cut mark; and the status text without it. */
export function readCutMark(statusText: string): { statusText: string; cutAtBytes?: number } {
  const at = statusText.lastIndexOf(CUT_MARK);
  if (at === -1) return { statusText };
  return {
    statusText: statusText.slice(0, at),
    cutAtBytes: Number.parseInt(statusText.slice(at + CUT_MARK.length), 10),
  };
}

export interface AnswerBoundOptions {
  limitBytes: number;
  deadlineMs: number;
}

export interface BoundedAgents {
  http: HttpAgent;
  https: HttpsAgent;
  /** Destroys every request still in flight and the agents' sockets. */
  close(): void;
}

export function boundedAgents(bounds: AnswerBoundOptions): BoundedAgents {
  const live = new Set<ClientRequest>();
  // No keep-alive: every request gets its own connection, so cutting one answer (by closing its
  // socket) can never spoil the next request, and nothing idles open after the run.
  const http = new HttpAgent({ keepAlive: false });
  const https = new HttpsAgent({ keepAlive: false });
  for (const agent of [http, https]) {
    const addRequest = (agent as unknown as { addRequest: (req: ClientRequest, options: unknown) => void }).addRequest;
    (agent as unknown as { addRequest: typeof addRequest }).addRequest = function (req, options) {
      guard(req, bounds, live);
      addRequest.call(this, req, options);
    };
  }
  return {
    http,
    https,
    close() {
      for (const req of live) req.destroy();
      live.clear();
      http.destroy();
      https.destroy();
    },
  };
}

function deadlineError(ms: number): Error {
  return Object.assign(new Error(`no complete answer within ${ms} ms (deadline for headers and body together)`), {
    code: 'ETIMEDOUT',
  });
}

function guard(req: ClientRequest, bounds: AnswerBoundOptions, live: Set<ClientRequest>): void {
  live.add(req);
  const timer = setTimeout(() => req.destroy(deadlineError(bounds.deadlineMs)), bounds.deadlineMs);
  const done = (): void => {
    clearTimeout(timer);
    live.delete(req);
  };
  req.once('close', done);
  req.once('response', (res: IncomingMessage) => {
    res.once('end', done);
    capBody(res, bounds.limitBytes);
  });
}

type Push = (chunk: unknown, encoding?: BufferEncoding) => boolean;

/**
 * Keeps the first `limit` bytes of the body and ends the answer there. It hooks `push`, through
 * which Node's HTTP parser hands body bytes to the response stream: past the limit nothing more is
 * stored, the stream ends normally (so the prefix is judged, not reported as an error) and the
 * socket is closed, which stops the receiver. A compressed body is decoded here, under the same
 * limit, so a small compressed answer cannot expand without bound; newman then sees plain bytes.
 */
function capBody(res: IncomingMessage, limit: number): void {
  const push = res.push.bind(res) as Push;
  const decoder = decoderFor(res.headers['content-encoding']);
  if (decoder) delete res.headers['content-encoding'];
  // Compressed input beyond this has long produced more than `limit` bytes, or is no real answer.
  const rawLimit = decoder ? limit * 4 : limit;
  let raw = 0;
  let kept = 0;
  let ended = false;

  const end = (): void => {
    if (ended) return;
    ended = true;
    push(null);
  };
  const cut = (): void => {
    if (ended) return;
    res.statusMessage = `${res.statusMessage ?? ''}${CUT_MARK}${kept} bytes]`;
    // The message is over as far as this client is concerned: closing the socket must not turn
    // into an "aborted" error on an answer that was ended on purpose.
    res.complete = true;
    end();
    decoder?.destroy();
    res.socket?.destroy();
  };
  const keep = (chunk: Buffer): void => {
    if (ended) return;
    const room = limit - kept;
    if (chunk.length > room) {
      if (room > 0) push(chunk.subarray(0, room));
      kept += room;
      cut();
      return;
    }
    kept += chunk.length;
    push(chunk);
  };

  if (decoder) {
    decoder.on('data', (chunk: Buffer) => keep(chunk));
    decoder.once('end', end);
    decoder.once('error', (error) => {
      if (!ended) res.destroy(error);
    });
  }
  (res as unknown as { push: Push }).push = (chunk) => {
    if (chunk === null) {
      if (decoder && !ended) decoder.end();
      else end();
      return false;
    }
    if (ended) return false;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    if (!decoder) {
      keep(bytes);
      return !ended;
    }
    raw += bytes.length;
    if (raw > rawLimit) {
      cut();
      return false;
    }
    decoder.write(bytes);
    return true;
  };
}

/** Decoders for what newman would decode itself (gzip, deflate, br), tolerant of a truncated stream. */
function decoderFor(header: string | undefined): Transform | undefined {
  const encoding = (header ?? '').trim().toLowerCase();
  const options = { flush: zlibConstants.Z_SYNC_FLUSH, finishFlush: zlibConstants.Z_SYNC_FLUSH };
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip(options);
  if (encoding === 'deflate') return deflateDecoder(options);
  if (encoding === 'br') return createBrotliDecompress();
  return undefined;
}

/** "deflate" is meant to be zlib-wrapped, but servers also send raw deflate: decide by the first byte. */
function deflateDecoder(options: { flush: number; finishFlush: number }): Transform {
  let inner: Transform | undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!inner) {
        // A zlib header's first byte has 8 (deflate) in its low nibble.
        inner = (chunk[0]! & 0x0f) === 0x08 ? createInflate(options) : createInflateRaw(options);
        inner.on('data', (out: Buffer) => this.push(out));
        inner.once('error', (error) => this.destroy(error));
      }
      inner.write(chunk, () => callback());
    },
    flush(callback) {
      if (!inner) return callback();
      inner.once('end', () => callback());
      inner.end();
    },
  });
}
