import { loadConfig } from '../config/load-config.js';
import { EXIT, UserError, type ExitCode } from '../shared/errors.js';
import type { ResolvedConfig } from '../config/types.js';
import { secretValues } from '../collection/variables.js';
import { startReceiver } from '../receiver/start-receiver.js';
import { receiverOptionsFromConfig } from '../receiver/from-config.js';
import type { ReceiverLogEntry } from '../receiver/types.js';
import { describeFaults, type ReceiverFaults } from '../receiver/faults.js';
import { LOOKUP_PREFIXES } from '../receiver/lookup-routes.js';
import { escapeControl, logJson } from '../receiver/log-safe.js';
import type { CommandIO } from '../shared/command-io.js';

export interface ServeArgs {
  config: string;
  /**
   * As typed, checked here so that `--port abc` is named in the error, not turned into NaN.
   * Default: the port the config's notify URLs name (see servePort).
   */
  port?: number | string;
  host: string;
  /** Fault switches, as typed (checked by faultsFromArgs so the error names the flag). */
  dropEvery?: number | string;
  dropShare?: number | string;
  faultSeed?: number | string;
  slowAt?: number | string;
  slowDelay?: number | string;
  raceWindow?: number | string;
  notIdempotent?: boolean;
  maxConnections?: number | string;
  /** No line per acknowledged notification (refusals and faults are still logged): for load. */
  quiet?: boolean;
}

function wholeNumber(value: number | string, flag: string, min: number, max: number): number {
  const text = String(value).trim();
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max))
    throw new UserError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

/** A share as 0.01 or 1%. */
function share(value: number | string, flag: string): number {
  const text = String(value).trim();
  const percent = text.endsWith('%');
  const n = /^\d+(\.\d+)?%?$/.test(text) ? Number(percent ? text.slice(0, -1) : text) / (percent ? 100 : 1) : NaN;
  if (!(n >= 0 && n <= 1))
    throw new UserError(
      `${flag} must be a share from 0 to 1 or a percentage, e.g. 0.01 or 1%, got ${JSON.stringify(text)}`,
    );
  return n;
}

/** The fault switches of `serve` (the library's ReceiverFaults), each flag checked on its own. */
export function faultsFromArgs(args: ServeArgs): ReceiverFaults {
  const faults: ReceiverFaults = {};
  if (args.dropEvery !== undefined && args.dropShare !== undefined)
    throw new UserError('--drop-every and --drop-share both choose which records are lost: give one');
  if (args.dropEvery !== undefined) faults.dropEvery = wholeNumber(args.dropEvery, '--drop-every', 1, 1e9);
  if (args.dropShare !== undefined) faults.dropShare = share(args.dropShare, '--drop-share');
  if (args.faultSeed !== undefined) {
    if (args.dropShare === undefined)
      throw new UserError('--fault-seed picks the records --drop-share loses: give --drop-share too');
    faults.seed = wholeNumber(args.faultSeed, '--fault-seed', 0, 2 ** 31 - 1);
  }
  if (args.slowDelay !== undefined && args.slowAt === undefined)
    throw new UserError('--slow-delay is the answer time at --slow-at: give --slow-at too');
  if (args.slowAt !== undefined) {
    faults.slowdown = { rate: wholeNumber(args.slowAt, '--slow-at', 1, 1e6) };
    if (args.slowDelay !== undefined) faults.slowdown.delayMs = wholeNumber(args.slowDelay, '--slow-delay', 0, 60_000);
  }
  if (args.raceWindow !== undefined)
    faults.race = { windowMs: wholeNumber(args.raceWindow, '--race-window', 1, 60_000) };
  if (args.notIdempotent) {
    if (faults.race)
      throw new UserError('--not-idempotent processes every copy, --race-window refuses racing copies: give one');
    faults.notIdempotent = true;
  }
  if (args.maxConnections !== undefined)
    faults.maxConnections = wholeNumber(args.maxConnections, '--max-connections', 1, 1e6);
  return faults;
}

/** Where `serve` listens when --port is not given, when no notify URL names a port. */
export const FALLBACK_SERVE_PORT = 8080;

/**
 * The port the config's notify URLs point at, so `serve` answers exactly where `run` sends. The
 * receiver listens on one port: URLs on different ports need --port (and a proxy in front).
 */
export function servePort(config: ResolvedConfig): { port: number; note?: string } {
  const urls = notifyUrls(config).map((u) => new URL(u));
  const explicit = [...new Set(urls.filter((u) => u.port !== '').map((u) => Number(u.port)))];
  const implicit = urls.filter((u) => u.port === '');
  if (explicit.length === 0) {
    return {
      port: FALLBACK_SERVE_PORT,
      note: `the config's notify URLs name no port; listening on ${FALLBACK_SERVE_PORT} (choose with --port)`,
    };
  }
  if (explicit.length === 1 && implicit.length === 0) return { port: explicit[0]! };
  const named = [
    ...explicit.map(String),
    ...(implicit.length > 0 ? ['the default port of ' + implicit[0]!.protocol.replace(':', '')] : []),
  ];
  throw new UserError(
    `the config's notify URLs use different ports (${named.join(', ')}); the reference receiver listens on one: pass --port`,
  );
}

function notifyUrls(config: ResolvedConfig): string[] {
  return [config.v2?.notifyUrl, config.v2?.refundNotifyUrl, config.v3?.notifyUrl, config.v3?.refundNotifyUrl].filter(
    (u): u is string => Boolean(u),
  );
}

/** A TCP port 0–65535 (0: any free port), or a UserError saying what was wrong with it. */
export function parsePort(value: number | string): number {
  const text = String(value).trim();
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port > 65535) {
    throw new UserError(
      `--port must be a whole number from 0 to 65535 (0 picks a free port), got ${JSON.stringify(text)}`,
    );
  }
  return port;
}

/** serve routes by path, so two notification types cannot share one: name the fields that clash. */
function checkDistinctPaths(config: ResolvedConfig, configFile: string): void {
  const urls: [string, string | undefined][] = [
    ['v2.notifyUrl', config.v2?.notifyUrl],
    ['v2.refundNotifyUrl', config.v2?.refundNotifyUrl],
    ['v3.notifyUrl', config.v3?.notifyUrl],
    ['v3.refundNotifyUrl', config.v3?.refundNotifyUrl],
  ];
  const seen = new Map<string, string>();
  for (const [field, url] of urls) {
    if (!url) continue;
    const path = new URL(url).pathname;
    const first = seen.get(path);
    if (first) {
      throw new UserError(
        `${configFile}: ${first} and ${field} share the path ${path}; serve answers each path with one handler, so give each notification its own path`,
      );
    }
    seen.set(path, field);
  }
}

/** Why the receiver could not listen, as one line (listen errors are the user's to fix). */
function listenProblem(error: NodeJS.ErrnoException, host: string, port: number): string | undefined {
  switch (error.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use (another server, or a serve still running?); stop it or choose another --port`;
    case 'EADDRNOTAVAIL':
      return `--host ${host} is not an address of this machine; use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`;
    case 'EACCES':
    case 'EPERM':
      return `not allowed to listen on port ${port} (ports below 1024 need privileges); choose a port from 1024 up`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `--host ${host} is neither an IP address nor a host name of this machine; use 127.0.0.1 or 0.0.0.0`;
    default:
      return undefined;
  }
}

/** One entry, one head line and at most one detail line: whatever the sender wrote is escaped. */
function logLine(entry: ReceiverLogEntry & { status?: number }, quiet = false): string {
  if (quiet && entry.outcome === 'ack' && !entry.fault) return '';
  const what = `${entry.version} ${entry.kind}${entry.eventId ? ` ${escapeControl(entry.eventId)}` : ''}${entry.duplicate ? ' (duplicate: acknowledged again, not processed again)' : ''}`;
  const head = `${new Date().toISOString()} ${entry.outcome === 'ack' ? 'ACK   ' : 'REJECT'} ${entry.status ?? ''} ${escapeControl(entry.path)} ${what}`;
  const fault = entry.fault ? `  FAULT (switched on): ${escapeControl(entry.fault)}\n` : '';
  const detail =
    entry.outcome === 'reject'
      ? `  reason: ${escapeControl(entry.reason ?? '?')}`
      : entry.notification && !quiet
        ? `  ${logJson(entry.notification)}`
        : '';
  return `${head}\n${fault}${detail ? detail + '\n' : ''}`;
}

/** `serve`: the reference merchant receiver on the config's paths, logging each decoded notification. */
export async function serveCommand(args: ServeArgs, io: CommandIO, until?: Promise<void>): Promise<ExitCode> {
  const given = args.port === undefined ? undefined : parsePort(args.port);
  const faults = faultsFromArgs(args);
  const config = await loadConfig(args.config);
  io.addSecrets(secretValues(config));
  checkDistinctPaths(config, args.config);
  const chosen = given === undefined ? servePort(config) : { port: given };
  if (chosen.note) io.err(`wxpay-notify: ${chosen.note}\n`);
  let receiver;
  try {
    receiver = await startReceiver(
      { ...receiverOptionsFromConfig(config), faults, log: (e) => io.out(logLine(e, args.quiet)) },
      { host: args.host, port: chosen.port },
    );
  } catch (error) {
    const problem = listenProblem(error as NodeJS.ErrnoException, args.host, chosen.port);
    throw problem ? new UserError(problem, 'E_LISTEN') : error;
  }
  const paths = notifyUrls(config).map((u) => new URL(u).pathname);
  io.out(`reference receiver (参考商户端) listening on ${receiver.url}\n`);
  for (const p of paths) io.out(`  POST ${receiver.url}${p}\n`);
  io.out(
    `  lookup (what was recorded, for load --lookup): GET ${receiver.url}${LOOKUP_PREFIXES.order}{out_trade_no} · GET ${receiver.url}${LOOKUP_PREFIXES.refund}{out_refund_no}\n`,
  );
  const switched = describeFaults(faults);
  if (switched.length > 0)
    io.out(`FAULTS SWITCHED ON (this receiver misbehaves on purpose):\n${switched.map((f) => `  - ${f}\n`).join('')}`);
  let refusedConnections = 0;
  receiver.server.on('drop', () => {
    if (refusedConnections++ === 0)
      io.out(
        `${new Date().toISOString()} FAULT (switched on): a connection beyond --max-connections ${faults.maxConnections} was closed (further ones are counted when serve stops)\n`,
      );
  });
  io.out(
    args.port === undefined && !chosen.note
      ? `The config's notify URLs point here: \`npx wxpay-notify run -c ${args.config}\` in another terminal sends every case. Ctrl-C stops.\n`
      : "Point the config's notify URLs here to check the generated collection; Ctrl-C stops.\n",
  );
  await (until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }));
  await receiver.close();
  const { payments, refunds } = receiver.records.size;
  const dropped = receiver.records.dropped.length;
  io.out(
    `stopped: recorded ${payments} payment${payments === 1 ? '' : 's'} and ${refunds} refund${refunds === 1 ? '' : 's'}` +
      (dropped > 0
        ? `; lost ${dropped} record${dropped === 1 ? '' : 's'} on purpose (--drop-${faults.dropEvery !== undefined ? 'every' : 'share'})`
        : '') +
      (refusedConnections > 0
        ? `; closed ${refusedConnections} connection${refusedConnections === 1 ? '' : 's'} beyond --max-connections`
        : '') +
      '\n',
  );
  return EXIT.ok;
}
