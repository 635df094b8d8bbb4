import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNotifyHandler } from './notify-handler.js';
import { createOrderRecords } from './order-records.js';
import type { ReceiverLogEntry, ReceiverOptions, ReceiverSteps, RequestHook, RunningReceiver } from './types.js';

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

/**
 * Starts the reference merchant endpoint on its own HTTP server (createNotifyHandler does the work;
 * use that to mount it in a server of your own).
 */
export async function startReceiver(opts: ReceiverOptions, listen: ListenOptions = {}): Promise<RunningReceiver> {
  const log: ReceiverLogEntry[] = [];
  const records = opts.records ?? createOrderRecords();
  const handler = createNotifyHandler(
    { ...opts, records },
    { steps: listen.steps, hook: listen.hook, record: (entry) => log.push(entry) },
  );
  const server = createServer((req, res) => handler(req, res));
  // Over the limit Node closes the new connection at once, as a full worker pool or proxy does.
  if (opts.faults?.maxConnections !== undefined) server.maxConnections = opts.faults.maxConnections;
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

  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port, close, log, records, server };
}
