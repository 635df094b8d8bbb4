import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SECRET_ENV } from '../../src/keys/init-files.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { runChild, hasGnuTime, type ChildRun } from './child.js';
import type { BenchContext, MeasureResult } from './harness.js';
import { infoRow } from './render-bench.js';
import { formatMs, formatRatio, median } from './stats.js';

/** The product as users run it (npm run bench builds dist/ first). */
const CLI = join(PACKAGE_ROOT, 'dist', 'cli.js');

function newmanBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('newman/package.json')), 'bin', 'newman.js');
}

/** A config file as `init` would write it (keys in files, API keys from the environment), aimed at the receiver. */
function writeProject(ctx: BenchContext): { config: string; env: NodeJS.ProcessEnv } {
  const dir = join(ctx.dir, 'e2e');
  mkdirSync(join(dir, 'keys'), { recursive: true });
  const c = ctx.receiverConfig;
  writeFileSync(join(dir, 'keys/public-key-private.pem'), ctx.keys.publicKey.privateKeyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'keys/cert-private.pem'), ctx.keys.certificate.privateKeyPem, { mode: 0o600 });
  const config = {
    name: 'bench',
    appid: c.appid,
    mchid: c.mchid,
    v2: {
      notifyUrl: c.v2!.notifyUrl,
      refundNotifyUrl: c.v2!.refundNotifyUrl,
      apiKey: `\${${SECRET_ENV.apiKey}}`,
      signType: c.v2!.signType,
    },
    v3: {
      notifyUrl: c.v3!.notifyUrl,
      refundNotifyUrl: c.v3!.refundNotifyUrl,
      apiV3Key: `\${${SECRET_ENV.apiV3Key}}`,
      platform: { privateKeyFile: 'keys/public-key-private.pem', serial: c.v3!.platform!.serial },
      platformCertificate: { privateKeyFile: 'keys/cert-private.pem', serial: c.v3!.platformCertificate!.serial },
    },
    order: { outTradeNo: c.order.outTradeNo, total: c.order.total, openid: c.order.openid },
  };
  const file = join(dir, 'wxpay-notify.json');
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  const env = {
    ...process.env,
    [SECRET_ENV.apiKey]: ctx.keys.apiKey,
    [SECRET_ENV.apiV3Key]: ctx.keys.apiV3Key,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  };
  return { config: file, env };
}

function check(name: string, run: ChildRun): ChildRun {
  if (run.code !== 0) {
    const tail = (run.stderr.trim() || run.stdout.trim()).split('\n').slice(-4).join(' ');
    throw new Error(`${name} exited ${run.code}: ${tail}`);
  }
  return run;
}

/** newman's CLI reporter prints `│ requests │ executed │ failed │`. */
function newmanRequests(stdout: string): string {
  const match = /requests\s*│\s*(\d+)\s*│\s*(\d+)/.exec(stdout);
  return match ? `${match[1]} requests, ${match[2]} failed` : 'request count not found';
}

export async function measureEndToEnd(ctx: BenchContext): Promise<MeasureResult> {
  const { config, env } = writeProject(ctx);
  const outDir = join(ctx.dir, 'e2e', 'collections');
  check(
    'wxpay-notify generate',
    await runChild(process.execPath, [CLI, 'generate', '-c', config, '-o', outDir], { env }),
  );
  const collection = join(outDir, 'bench.postman_collection.json');
  const environment = join(outDir, 'bench.postman_environment.json');
  // The receiver's log counts what each CLI delivered (pm.sendRequest copies included).
  const received = { ours: 0, plain: 0 };
  const timed = async (side: 'ours' | 'plain', name: string, args: string[]): Promise<ChildRun> => {
    const before = ctx.receiver.log.length;
    const run = check(name, await runChild(process.execPath, args, { env }));
    received[side] = ctx.receiver.log.length - before;
    return run;
  };
  const ours = (): Promise<ChildRun> => timed('ours', 'wxpay-notify run', [CLI, 'run', '-c', config]);
  const plain = (): Promise<ChildRun> =>
    timed('plain', 'newman run', [newmanBin(), 'run', collection, '-e', environment]);

  const rounds = ctx.quick ? 1 : 3;
  if (!ctx.quick) {
    await ours();
    await plain();
  }
  const runs: { ours: ChildRun[]; plain: ChildRun[] } = { ours: [], plain: [] };
  for (let i = 0; i < rounds; i++) {
    runs.ours.push(await ours());
    runs.plain.push(await plain());
  }
  const oursMs = median(runs.ours.map((r) => r.wallMs));
  const plainMs = median(runs.plain.map((r) => r.wallMs));
  const rss = (list: ChildRun[]): string => {
    const values = list.map((r) => r.maxRssKb).filter((v): v is number => v !== undefined);
    return values.length > 0 ? `${(Math.max(...values) / 1024).toFixed(0)} MB` : 'n/a';
  };
  return {
    rows: [
      infoRow(
        '6. end to end, default suite: `wxpay-notify run -c` ÷ `newman run`',
        `${formatRatio(oursMs / plainMs)} (${formatMs(oursMs)} vs ${formatMs(plainMs)})`,
      ),
      infoRow('6. … peak RSS (wxpay-notify / newman)', `${rss(runs.ours)} / ${rss(runs.plain)}`),
    ],
    notes: [
      'A project as `init` lays it out (JSON config, key files, API keys from the environment) aimed at the reference receiver running in the bench process; ' +
        'the collection and environment for plain newman are written by `wxpay-notify generate` from that same config, so both CLIs send the same default suite ' +
        `(the receiver answered ${received.ours} notifications per wxpay-notify run and ${received.plain} per newman run; ` +
        `newman reported ${newmanRequests(runs.plain[0]!.stdout)}; both exited 0, i.e. every case passed).`,
      `Wall time from spawn to exit of \`node dist/cli.js run -c <config>\` and \`node node_modules/newman/bin/newman.js run <collection> -e <environment>\` (default cli reporter, output piped), ` +
        `${ctx.quick ? 'one run each, without warm-up' : `median of ${rounds} alternating runs after one warm-up each`}` +
        `${hasGnuTime() ? '; peak RSS from `/usr/bin/time -v`' : ''}. Ours also loads and checks the config and keys, builds the collection in memory and judges in Node.`,
    ],
  };
}
