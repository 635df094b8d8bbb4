import { loadConfig } from '../config/load-config.js';
import { EXIT, UserError, type ExitCode } from '../config/errors.js';
import type { ResolvedConfig } from '../config/types.js';
import { secretValues } from '../collection/variables.js';
import { startReceiver } from '../receiver/start-receiver.js';
import { receiverOptionsFromConfig } from '../receiver/from-config.js';
import type { ReceiverLogEntry } from '../receiver/types.js';
import type { CommandIO } from './io.js';

export interface ServeArgs {
  config: string;
  /** Default: the port the config's notify URLs name (see servePort). */
  port?: number;
  host: string;
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
    return { port: FALLBACK_SERVE_PORT, note: `the config's notify URLs name no port; listening on ${FALLBACK_SERVE_PORT} (choose with --port)` };
  }
  if (explicit.length === 1 && implicit.length === 0) return { port: explicit[0]! };
  const named = [...explicit.map(String), ...(implicit.length > 0 ? ['the default port of ' + implicit[0]!.protocol.replace(':', '')] : [])];
  throw new UserError(`the config's notify URLs use different ports (${named.join(', ')}); the reference receiver listens on one: pass --port`);
}

function notifyUrls(config: ResolvedConfig): string[] {
  return [config.v2?.notifyUrl, config.v2?.refundNotifyUrl, config.v3?.notifyUrl, config.v3?.refundNotifyUrl].filter((u): u is string => Boolean(u));
}

function logLine(entry: ReceiverLogEntry & { status?: number }): string {
  const what = `${entry.version} ${entry.kind}${entry.eventId ? ` ${entry.eventId}` : ''}${entry.duplicate ? ' (duplicate: acknowledged again, not processed again)' : ''}`;
  const head = `${new Date().toISOString()} ${entry.outcome === 'ack' ? 'ACK   ' : 'REJECT'} ${entry.status ?? ''} ${entry.path} ${what}`;
  const detail = entry.outcome === 'reject' ? `  reason: ${entry.reason ?? '?'}` : entry.notification ? `  ${JSON.stringify(entry.notification)}` : '';
  return `${head}\n${detail ? detail + '\n' : ''}`;
}

/** `serve`: the reference merchant receiver on the config's paths, logging each decoded notification. */
export async function serveCommand(args: ServeArgs, io: CommandIO, until?: Promise<void>): Promise<ExitCode> {
  const config = await loadConfig(args.config);
  io.addSecrets(secretValues(config));
  const chosen = args.port === undefined ? servePort(config) : { port: args.port };
  if (chosen.note) io.err(`wxpay-notify: ${chosen.note}\n`);
  const receiver = await startReceiver({ ...receiverOptionsFromConfig(config), log: (e) => io.out(logLine(e)) }, { host: args.host, port: chosen.port });
  const paths = notifyUrls(config).map((u) => new URL(u).pathname);
  io.out(`reference receiver (参考商户端) listening on ${receiver.url}\n`);
  for (const p of paths) io.out(`  POST ${receiver.url}${p}\n`);
  io.out(args.port === undefined && !chosen.note
    ? `The config's notify URLs point here: \`npx wxpay-notify run -c ${args.config}\` in another terminal sends every case. Ctrl-C stops.\n`
    : 'Point the config\'s notify URLs here to check the generated collection; Ctrl-C stops.\n');
  await (until ?? new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  }));
  await receiver.close();
  return EXIT.ok;
}
