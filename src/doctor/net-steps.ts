import { CONTENT_TYPES } from '../protocol/constants.js';
import { lookup as dnsLookup } from 'node:dns/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { connect as netConnect, isIP, type NetConnectOpts, type Socket } from 'node:net';
import {
  checkServerIdentity,
  connect as tlsConnect,
  type ConnectionOptions,
  type DetailedPeerCertificate,
  type TLSSocket,
} from 'node:tls';
import type { ProbeAnswer, TlsFacts } from './classify.js';
import { bareHost } from './host-kind.js';

/**
 * The network primitives behind reachability.ts, each bounded by `deps.timeoutMs` and built on the
 * injected network functions: TCP connect, TLS handshake (what was found, not yet judged) and the
 * one probe request.
 */

export const DEFAULT_STEP_TIMEOUT_MS = 5000;
export const PROBE_USER_AGENT = 'wxpay-notify-doctor';
const MAX_BODY_BYTES = 16 * 1024;

/** Chooses the probe body: `<xml></xml>` for v2, `{}` for v3 (the default). */
export type ProbeVersion = 'v2' | 'v3' | undefined;

export interface ReachabilityDeps {
  lookup(host: string): Promise<ReadonlyArray<{ address: string; family: number }>>;
  netConnect(options: NetConnectOpts): Socket;
  tlsConnect(options: ConnectionOptions): TLSSocket;
  request(secure: boolean, options: https.RequestOptions): http.ClientRequest;
  /** Milliseconds since the epoch: step times and certificate expiry. */
  now(): number;
  timeoutMs: number;
}

export const defaultReachabilityDeps: ReachabilityDeps = {
  lookup: (host) => dnsLookup(host, { all: true, verbatim: true }),
  netConnect: (options) => netConnect(options),
  tlsConnect: (options) => tlsConnect(options),
  request: (secure, options) => (secure ? https.request(options) : http.request(options)),
  now: () => Date.now(),
  timeoutMs: DEFAULT_STEP_TIMEOUT_MS,
};

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms} ms (timed out)`), { code: 'ETIMEDOUT' });
}

/**
 * Runs one step against a deadline. `run` starts the work and returns a release function (destroy
 * the socket), called once the step ends, however it ends.
 */
export function bounded<T>(
  ms: number,
  run: (settle: { resolve(v: T): void; reject(e: unknown): void }) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let release: () => void = () => {};
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      release();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(timeoutError(ms))), ms);
    const releaseNow = run({ resolve: (v) => finish(() => resolve(v)), reject: (e) => finish(() => reject(e)) });
    if (done) releaseNow();
    else release = releaseNow;
  });
}

export function tcpConnect(deps: ReachabilityDeps, address: string, port: number): Promise<void> {
  return bounded(deps.timeoutMs, ({ resolve, reject }) => {
    const socket = deps.netConnect({ host: address, port });
    socket.once('connect', () => resolve());
    socket.on('error', reject);
    return () => socket.destroy();
  });
}

function commonName(cert: DetailedPeerCertificate): string | undefined {
  const cn: unknown = cert.subject?.CN;
  return Array.isArray(cn) ? cn.join(', ') : typeof cn === 'string' ? cn : undefined;
}

export function tlsHandshake(deps: ReachabilityDeps, address: string, port: number, host: string): Promise<TlsFacts> {
  return bounded(deps.timeoutMs, ({ resolve, reject }) => {
    const socket = deps.tlsConnect({
      host: address,
      port,
      servername: isIP(host) ? undefined : host,
      rejectUnauthorized: false,
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(true) as DetailedPeerCertificate;
      const hasCert = cert && Object.keys(cert).length > 0;
      const identity = hasCert ? checkServerIdentity(host, cert) : new Error('the server sent no certificate');
      const chainError = socket.authorizationError
        ? String((socket.authorizationError as Error & { code?: string }).code ?? socket.authorizationError)
        : undefined;
      resolve({
        protocol: socket.getProtocol(),
        ...(chainError && chainError !== 'ERR_TLS_CERT_ALTNAME_INVALID' ? { chainError } : {}),
        ...(identity ? { identityError: identity.message } : {}),
        ...(hasCert
          ? { subject: commonName(cert) ?? cert.subjectaltname, validFrom: cert.valid_from, validTo: cert.valid_to }
          : {}),
      });
    });
    socket.on('error', reject);
    return () => socket.destroy();
  });
}

export function probe(
  deps: ReachabilityDeps,
  url: URL,
  address: string,
  opts: { version: ProbeVersion; insecure: boolean },
): Promise<Omit<ProbeAnswer, 'timeMs'>> {
  const v2 = opts.version === 'v2';
  const body = v2 ? '<xml></xml>' : '{}';
  const secure = url.protocol === 'https:';
  const host = bareHost(url.hostname);
  return bounded(deps.timeoutMs, ({ resolve, reject }) => {
    const req = deps.request(secure, {
      host: address,
      port: Number(url.port) || (secure ? 443 : 80),
      path: url.pathname + url.search,
      method: 'POST',
      agent: false,
      ...(secure ? { servername: isIP(host) ? undefined : host, rejectUnauthorized: !opts.insecure } : {}),
      headers: {
        Host: url.host,
        'User-Agent': PROBE_USER_AGENT,
        'Content-Type': CONTENT_TYPES[v2 ? 'v2' : 'v3'],
        'Content-Length': Buffer.byteLength(body),
        Accept: '*/*',
      },
    });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          location: res.headers.location,
          // Lower-case names (Node's), arrays joined: what the stack fingerprints read.
          headers: Object.fromEntries(
            Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]),
          ),
          body: Buffer.concat(chunks).toString('utf8'),
        });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_BODY_BYTES) done();
      });
      res.once('end', done);
      res.on('error', done);
    });
    req.on('error', reject);
    req.end(body);
    return () => req.destroy();
  });
}

export async function timed<T>(
  deps: ReachabilityDeps,
  run: () => Promise<T>,
): Promise<{ value?: T; error?: unknown; timeMs: number }> {
  const start = deps.now();
  try {
    const value = await run();
    return { value, timeMs: deps.now() - start };
  } catch (error) {
    return { error, timeMs: deps.now() - start };
  }
}
