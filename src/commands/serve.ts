import { loadConfig } from '../config/load-config.js';
import { EXIT, type ExitCode } from '../config/errors.js';
import { secretValues } from '../collection/variables.js';
import { startReceiver } from '../receiver/start-receiver.js';
import { receiverOptionsFromConfig } from '../receiver/from-config.js';
import type { ReceiverLogEntry } from '../receiver/types.js';
import type { CommandIO } from './io.js';

export interface ServeArgs {
  config: string;
  port: number;
  host: string;
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
  const receiver = await startReceiver({ ...receiverOptionsFromConfig(config), log: (e) => io.out(logLine(e)) }, { host: args.host, port: args.port });
  const paths = [config.v2?.notifyUrl, config.v2?.refundNotifyUrl, config.v3?.notifyUrl, config.v3?.refundNotifyUrl]
    .filter((u): u is string => Boolean(u))
    .map((u) => new URL(u).pathname);
  io.out(`reference receiver (参考商户端) listening on ${receiver.url}\n`);
  for (const p of paths) io.out(`  POST ${receiver.url}${p}\n`);
  io.out('Point the config\'s notify URLs here to check the generated collection; Ctrl-C stops.\n');
  await (until ?? new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  }));
  await receiver.close();
  return EXIT.ok;
}
