import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { V2_ACK_XML } from '../../src/protocol/constants.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { fileURLToPath } from 'node:url';
import { runChild } from './child.js';
import type { BenchContext, MeasureResult } from './harness.js';
import type { LoadChildArgs } from './load-child.js';
import { metFrom, type BenchRow } from './render-bench.js';
import { loadAverage } from './machine.js';
import type { LoadReport } from '../../src/load/load-report.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'cli.js');
const CHILD = fileURLToPath(new URL('./load-child.js', import.meta.url));

/** Issue 20's targets. */
export const LOAD_TARGETS = { v3: 1500, serve: 800, burst: 10_000, v2: 4000, generatorP99Ms: 10, rssMb: 300 } as const;

interface LoadSample {
  report: LoadReport;
  maxRssKb?: number;
  /** CPU seconds of the load process (every thread, its start-up included). */
  cpuS?: number;
  /** CPU seconds the receiver spent meanwhile. */
  receiverCpuS: number;
}

/** CPU seconds (user + system) of a process so far, from /proc: the receivers' share of the machine. */
function processCpuS(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime (fields 14 and 15 of proc(5)), in clock ticks: 100 a second on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** One run; the receiver is this process (the trivial servers) or `receiverPid`. */
async function loadRun(input: LoadChildArgs, receiverPid = process.pid): Promise<LoadSample> {
  const before = processCpuS(receiverPid);
  const run = await runChild(process.execPath, [CHILD, JSON.stringify(input)]);
  const receiverCpuS = processCpuS(receiverPid) - before;
  if (run.code !== 0 || !run.stdout.trim())
    throw new Error(`load child exited ${run.code}: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { report: JSON.parse(run.stdout) as LoadReport, maxRssKb: run.maxRssKb, cpuS: run.cpuS, receiverCpuS };
}

/** CPU per delivery, so figures taken on a busy machine still compare: `engine 1.40 + receiver 0.17 ms`. */
function cpuPerDelivery(s: LoadSample): string {
  const sent = s.report.deliveries.sent;
  if (!sent || s.cpuS === undefined) return 'CPU n/a';
  const ms = (cpuS: number): string => ((cpuS * 1000) / sent).toFixed(2);
  const receiver = Number.isFinite(s.receiverCpuS) ? ` + receiver ${ms(s.receiverCpuS)}` : '';
  return `CPU per delivery: engine ${ms(s.cpuS)}${receiver} ms`;
}

function row(label: string, target: number, s: LoadSample): BenchRow {
  const r = s.report;
  const rss = s.maxRssKb === undefined ? undefined : s.maxRssKb / 1024;
  return {
    metric: `8. ${label}`,
    value:
      `${r.deliveries.achievedRate.toLocaleString('en-US')}/s achieved (${r.deliveries.sent.toLocaleString('en-US')} sent, ${r.deliveries.ackRate}% acknowledged, ${r.deliveries.notSent} not sent); ` +
      `p99 ${r.latencyMs.p99} ms from the intended send; generator p99 ${r.generatorMs.p99} ms; ${rss === undefined ? 'RSS n/a' : `peak RSS ${rss.toFixed(0)} MB`}; ${cpuPerDelivery(s)}`,
    target: `≥ ${target.toLocaleString('en-US')}/s, generator p99 < ${LOAD_TARGETS.generatorP99Ms} ms, < ${LOAD_TARGETS.rssMb} MB`,
    met: metFrom(
      r.deliveries.achievedRate >= target * 0.98 &&
        r.deliveries.notSent === 0 &&
        r.generatorMs.p99 < LOAD_TARGETS.generatorP99Ms &&
        (rss === undefined || rss < LOAD_TARGETS.rssMb),
    ),
  };
}

/** `wxpay-notify serve` in its own process, on a config `init` wrote, with the keys in its environment. */
async function startServe(): Promise<{ configFile: string; pid: number; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-bench-serve-'));
  const env = {
    ...process.env,
    WXPAY_V2_API_KEY: 'k3yK3yk3yK3yk3yK3yk3yK3yk3yK3y01',
    WXPAY_V3_API_KEY: 'v3k3yv3k3yv3k3yv3k3yv3k3yv3k3y01',
  };
  const init = await runChild(process.execPath, [CLI, 'init', '--dir', dir]);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  const configFile = join(dir, 'wxpay-notify.jsonc');
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(configFile, readFileSync(configFile, 'utf8').replace(/127\.0\.0\.1:8080/g, `127.0.0.1:${port}`));
  const child = spawn(process.execPath, [CLI, 'serve', '-c', configFile, '--quiet'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('serve did not start within 30 s')), 30_000);
    child.stdout.on('data', (c: Buffer) => {
      if (c.toString().includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
  Object.assign(process.env, { WXPAY_V2_API_KEY: env.WXPAY_V2_API_KEY, WXPAY_V3_API_KEY: env.WXPAY_V3_API_KEY });
  return {
    configFile,
    pid: child.pid ?? process.pid,
    close: () => {
      child.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The v2 counterpart of the trivial 204 server: reads the body, answers WeChat's v2 acknowledgement. */
async function startTrivialV2(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'text/xml' }).end(V2_ACK_XML));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function measureLoad(ctx: BenchContext): Promise<MeasureResult> {
  const seconds = ctx.quick ? 10 : 60;
  const loadBefore = loadAverage();
  const v3 = await loadRun({
    url: ctx.trivial.url,
    load: { rate: LOAD_TARGETS.v3, duration: seconds, mix: 'v3.pay', workers: 2 },
  });
  const v2Server = await startTrivialV2();
  let v2: LoadSample;
  try {
    v2 = await loadRun({
      url: v2Server.url,
      load: { rate: LOAD_TARGETS.v2, duration: 10, mix: 'v2.pay', workers: 2, connections: 512 },
    });
  } finally {
    await v2Server.close();
  }
  const burst = await loadRun({
    url: ctx.trivial.url,
    load: { rate: LOAD_TARGETS.burst, duration: 3, mix: 'v3.pay', workers: 2, presign: true, connections: 512 },
  });
  const serve = await startServe();
  let served: LoadSample;
  try {
    served = await loadRun(
      {
        configFile: serve.configFile,
        load: { rate: LOAD_TARGETS.serve, duration: ctx.quick ? 10 : 30, workers: 2 },
      },
      serve.pid,
    );
  } finally {
    serve.close();
  }
  return {
    rows: [
      row(
        `v3 signed distinct notifications, ${seconds} s, 2 signing threads → trivial 204 receiver`,
        LOAD_TARGETS.v3,
        v3,
      ),
      row(
        'v3 (4 payments : 1 refund) → `wxpay-notify serve` (another process, same machine)',
        LOAD_TARGETS.serve,
        served,
      ),
      row('pre-signed burst (--presign), 3 s of v3 → trivial 204 receiver', LOAD_TARGETS.burst, burst),
      row('v2 MD5-signed payments, 10 s, 2 threads → trivial receiver answering SUCCESS', LOAD_TARGETS.v2, v2),
    ],
    notes: [
      `Load average before: ${loadBefore}; after: ${loadAverage()}. The load engine, its signing threads and the receiver share this machine's cores, so each figure is a floor for a machine where the receiver runs elsewhere.`,
      'Each run is `wxpay-notify load` alone in a child process (peak RSS from /usr/bin/time -v). Latency is from the intended send time (no coordinated omission); the generator figure is the time to build and sign one delivery. CPU per delivery is user + system time of the load process (all threads, its ~3 s start-up included) and of the receiver, divided by the deliveries: unlike a rate it holds when other work shares the cores, and rate ceiling ≈ 2 cores ÷ the sum.',
      'Ceilings (docs/load.md#where-each-ceiling-is): 2 cores ÷ CPU per delivery. v3 = RSA-2048 sign (~0.87 ms in Node here) + the rest of the engine (~0.2 ms) + the receiver; the pre-signed burst and v2 = the engine (~0.25 ms for v2) + the receiver; `serve` verifies, decrypts and records (~0.3 ms).',
    ],
  };
}
