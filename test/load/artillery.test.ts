import { execFile, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { demoConfig } from '../../src/commands/demo.js';
import { generateFiles } from '../../src/commands/generate-files.js';
import { UserError } from '../../src/shared/errors.js';
import { ARTILLERY_SECRET_ENV, artilleryPaths } from '../../src/load/artillery/render-artillery.js';
import { decryptResource } from '../../src/protocol/v3/aes-gcm.js';
import { v3SignMessage, verifyV3 } from '../../src/protocol/v3/sign-message.js';
import { createPublicKey } from 'node:crypto';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { receiverOptionsFromConfig, startReceiver, type RunningReceiver } from '../../src/receiver/index.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * `generate --format artillery`: the processor is driven here exactly as Artillery 2's HTTP engine
 * drives it (the contract is written down in src/load/artillery/processor-glue.ts, with its source
 * links), and what it sends is verified and decrypted with the Node protocol code. A second test
 * runs the real Artillery CLI on the generated files when ARTILLERY_BIN names one.
 */
const keys = testKeys();
const ARTILLERY_BIN = process.env.ARTILLERY_BIN;

/** dotenv's reading of a double-quoted value (the one form the env file uses): \n is a newline. */
function readEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)="(.*)"$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replace(/\\n/g, '\n');
  }
  return env;
}

type Hook = (...args: unknown[]) => void;
interface Processor {
  wxpayPrepare: Hook;
  wxpaySend: Hook;
  wxpaySignRepeat: Hook;
  wxpayJudge: Hook;
}

describe('generate --format artillery', () => {
  let dir: string;
  let receiver: RunningReceiver;
  let paths: ReturnType<typeof artilleryPaths>;
  let files: ReturnType<typeof generateFiles>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wxpay-artillery-'));
    receiver = await startReceiver(receiverOptionsFromConfig(demoConfig(keys, 'http://127.0.0.1:1', dir)));
    const config = demoConfig(keys, receiver.url, dir);
    files = generateFiles(config, { outDir: join(dir, 'out'), withSecrets: true, format: 'artillery' });
    mkdirSync(join(dir, 'out'));
    for (const f of files) writeFileSync(f.path, f.content, { mode: f.mode ?? 0o644 });
    paths = artilleryPaths(config.name, join(dir, 'out'));
  });
  afterAll(async () => {
    await receiver?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a scenario, a processor that needs only Node built-ins, and the keys in an owner-only dotenv file', () => {
    expect(files.map((f) => f.path)).toEqual([paths.scenario, paths.processor, paths.env]);
    const scenario = parse(readFileSync(paths.scenario, 'utf8')) as {
      config: Record<string, unknown>;
      scenarios: { flow: Record<string, Record<string, unknown>>[] }[];
    };
    expect(scenario.config.target).toBe(receiver.url);
    expect(scenario.config.processor).toBe('./demo.artillery-processor.cjs');
    // One pool of connections for all virtual users: a copy at the same instant gets its own connection.
    expect(scenario.config.http).toEqual({ timeout: 10, pool: 65536 });
    // One notification per virtual user; WeChat's repeat of it at the same instant (in parallel with
    // the first delivery) or after its answer, as the processor picks.
    const request = { url: '/', followRedirect: false, gzip: false };
    const copy = { ...request, beforeRequest: 'wxpaySignRepeat', afterResponse: 'wxpayJudge' };
    expect(scenario.scenarios[0]!.flow).toEqual([
      { function: 'wxpayPrepare' },
      {
        parallel: [
          { post: { ...request, beforeRequest: 'wxpaySend', afterResponse: 'wxpayJudge' } },
          { post: { ...copy, ifTrue: 'wxpayRepeatTogether' } },
        ],
      },
      { post: { ...copy, ifTrue: 'wxpayRepeatLater' } },
    ]);
    // Artillery applies --environment with lodash merge (arrays index by index): each environment
    // must come out as written, nothing of the default phases left in it.
    const phases = scenario.config.phases as Record<string, unknown>[];
    for (const [name, env] of Object.entries(
      scenario.config.environments as Record<string, { phases: Record<string, unknown>[] }>,
    )) {
      const merged = phases.map((p, i) => ({ ...p, ...env.phases[i] }));
      expect(merged, name).toEqual(env.phases);
    }
    // Artillery ships a processor with the npm packages it requires (bom.js): there are none.
    const processor = readFileSync(paths.processor, 'utf8');
    const required = [...processor.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(0);
    expect(required.filter((r) => !isBuiltin(r))).toEqual([]);
    // No secret in the scenario or the processor; all of them in the env file, mode 0600.
    for (const secret of [keys.apiV3Key, keys.apiKey, keys.publicKey.privateKeyPem.split('\n')[1]!]) {
      expect(processor).not.toContain(secret);
      expect(readFileSync(paths.scenario, 'utf8')).not.toContain(secret);
    }
    const env = readEnvFile(readFileSync(paths.env, 'utf8'));
    expect(env).toEqual({
      [ARTILLERY_SECRET_ENV.v3ApiKey]: keys.apiV3Key,
      [ARTILLERY_SECRET_ENV.platform]: keys.publicKey.privateKeyPem,
      [ARTILLERY_SECRET_ENV.certificate]: keys.certificate.privateKeyPem,
    });
    expect(statSync(paths.env).mode & 0o777).toBe(0o600);
  });

  it('--no-secrets leaves the values empty, and --only makes no sense for a load scenario', () => {
    const config = demoConfig(keys, receiver.url, dir);
    const env = generateFiles(config, { outDir: dir, withSecrets: false, format: 'artillery' }).find((f) =>
      f.path.endsWith('.env'),
    )!;
    expect(env.content).toBe(
      '# Secrets of the wxpay-notify Artillery processor (TEST keys): keep out of version control.\nWXPAY_V3_API_KEY=""\nWXPAY_PLATFORM_PRIVATE_KEY=""\nWXPAY_CERTIFICATE_PRIVATE_KEY=""\n',
    );
    expect(() =>
      generateFiles(config, { outDir: dir, withSecrets: true, format: 'artillery', only: ['v3.pay.success'] }),
    ).toThrow(UserError);
  });

  it('--mix chooses the kinds and weights as for load: the processor sends them in that proportion, the env file holds the keys they need', async () => {
    const config = demoConfig(keys, receiver.url, dir);
    const out = join(dir, 'mixed');
    const mixed = generateFiles(config, {
      outDir: out,
      withSecrets: true,
      format: 'artillery',
      mix: 'v2.pay=1,v3.refund=2',
    });
    mkdirSync(out);
    for (const f of mixed) writeFileSync(f.path, f.content, { mode: f.mode ?? 0o644 });
    const mixedPaths = artilleryPaths(config.name, out);
    expect(readEnvFile(readFileSync(mixedPaths.env, 'utf8'))).toEqual({
      [ARTILLERY_SECRET_ENV.v2ApiKey]: keys.apiKey,
      [ARTILLERY_SECRET_ENV.v3ApiKey]: keys.apiV3Key,
      [ARTILLERY_SECRET_ENV.platform]: keys.publicKey.privateKeyPem,
      [ARTILLERY_SECRET_ENV.certificate]: keys.certificate.privateKeyPem,
    });
    const saved = { ...process.env };
    try {
      Object.assign(process.env, readEnvFile(readFileSync(mixedPaths.env, 'utf8')));
      const processor = createRequire(import.meta.url)(mixedPaths.processor) as Processor;
      const events = new EventEmitter();
      const sent: string[] = [];
      for (let vu = 0; vu < 30; vu++) {
        const params: Record<string, unknown> = { url: `${receiver.url}/`, method: 'POST', timeout: 10_000, uuid: 'u' };
        const context = { vars: {} };
        const done = (resolve: () => void, reject: (e: Error) => void) => (error?: Error) =>
          error ? reject(error) : resolve();
        await new Promise<void>((resolve, reject) => processor.wxpayPrepare(context, events, done(resolve, reject)));
        await new Promise<void>((resolve, reject) =>
          processor.wxpaySend(params, context, events, done(resolve, reject)),
        );
        sent.push(String(params.url));
      }
      // Only the two kinds asked for, one v2 payment to two v3 refunds (the walk over the weights is
      // low-discrepancy: 30 deliveries hold 10 payments, give or take one).
      expect(new Set(sent)).toEqual(new Set(['/wxpay/v2/notify', '/wxpay/v3/refund-notify']));
      const payments = sent.filter((u) => u === '/wxpay/v2/notify').length;
      expect(payments).toBeGreaterThanOrEqual(9);
      expect(payments).toBeLessThanOrEqual(11);
    } finally {
      process.env = saved;
    }
    // --mix belongs to a load scenario; the other formats refuse it in one line.
    expect(() => generateFiles(config, { outDir: dir, withSecrets: true, mix: 'v3.pay' })).toThrow(
      '--mix chooses the notifications of a load scenario: use it with --format artillery (or with `wxpay-notify load`)',
    );
    expect(() => generateFiles(config, { outDir: dir, withSecrets: true, format: 'artillery', mix: 'v9.pay' })).toThrow(
      /--mix: unknown kind "v9.pay"/,
    );
  });

  it("the processor's hooks, called as Artillery calls them, send distinct genuine notifications and judge the answers", async () => {
    const saved = { ...process.env };
    const processor = createRequire(import.meta.url)(paths.processor) as Processor;
    const counters: Record<string, number> = {};
    const histograms: Record<string, number[]> = {};
    const events = new EventEmitter();
    events.on('counter', (name: string, n: number) => (counters[name] = (counters[name] ?? 0) + n));
    events.on('histogram', (name: string, v: number) => (histograms[name] ??= []).push(v));
    const call = (hook: Hook, ...args: unknown[]): Promise<void> =>
      new Promise((resolve, reject) => hook(...args, (error?: Error) => (error ? reject(error) : resolve())));
    // What engine_http.js hands beforeRequest: the step's params with the URL already prefixed.
    const requestParams = (step: Record<string, unknown>): Record<string, unknown> => ({
      ...step,
      url: `${receiver.url}/`,
      method: 'POST',
      timeout: 10_000,
      uuid: 'u',
    });
    const step = { url: '/', followRedirect: false, gzip: false };

    try {
      for (const name of Object.values(ARTILLERY_SECRET_ENV)) delete process.env[name];
      const context = { vars: {} as Record<string, unknown> };
      await expect(call(processor.wxpayPrepare, context, events)).rejects.toThrow(
        'wxpay-notify: WXPAY_V3_API_KEY, WXPAY_PLATFORM_PRIVATE_KEY, WXPAY_CERTIFICATE_PRIVATE_KEY not set; run Artillery with --dotenv <name>.artillery.env',
      );
      Object.assign(process.env, readEnvFile(readFileSync(paths.env, 'utf8')));

      const seen = new Set<string>();
      const trusted = {
        [keys.publicKey.keyId]: createPublicKey(keys.publicKey.privateKeyPem),
        [keys.certificate.serial]: createPublicKey(keys.certificate.privateKeyPem),
      };
      // Virtual users until WeChat's repeat has come both ways (the processor picks 1 in 10, half of
      // those at the same instant): at most 40.
      let vus = 0;
      const copies = { together: 0, later: 0 };
      while (vus < 40 && (copies.together === 0 || copies.later === 0)) {
        vus++;
        const ctx = { vars: {} as Record<string, unknown> };
        await call(processor.wxpayPrepare, ctx, events);
        const params = requestParams(step);
        await call(processor.wxpaySend, params, ctx, events);
        // What goes on the wire: a path for Artillery to prefix with the target, WeChat's headers, the exact bytes.
        expect(params.url).toMatch(/^\/wxpay\/v3\/(notify|refund-notify)$/);
        const headers = params.headers as Record<string, string>;
        const body = (params.body as Buffer).toString('utf8');
        expect(headers['User-Agent']).toBe('Mozilla/4.0');
        const serial = headers['Wechatpay-Serial']!;
        expect(
          verifyV3(
            v3SignMessage(headers['Wechatpay-Timestamp']!, headers['Wechatpay-Nonce']!, body),
            headers['Wechatpay-Signature']!,
            trusted[serial]!,
          ),
        ).toBe(true);
        const envelope = JSON.parse(body) as {
          id: string;
          resource: { ciphertext: string; nonce: string; associated_data: string };
        };
        const resource = JSON.parse(
          decryptResource(
            envelope.resource.ciphertext,
            keys.apiV3Key,
            envelope.resource.nonce,
            envelope.resource.associated_data,
          ),
        ) as {
          out_trade_no: string;
          out_refund_no?: string;
          amount: { total: number };
        };
        const id = resource.out_refund_no ?? resource.out_trade_no;
        expect(seen.has(id), id).toBe(false);
        seen.add(id);
        expect(resource.out_trade_no.length).toBeLessThanOrEqual(32);

        // Send as Artillery would (a copy at the same instant is built before either answer comes),
        // each answer handed to afterResponse with its own requestParams.
        const repeat = async (): Promise<[Record<string, unknown>, string]> => {
          const params2 = requestParams(step);
          await call(processor.wxpaySignRepeat, params2, ctx, events);
          const copyBody = (params2.body as Buffer).toString('utf8');
          expect((JSON.parse(copyBody) as { id: string }).id).toBe(envelope.id); // the same notification…
          expect((params2.headers as Record<string, string>)['Wechatpay-Nonce']).not.toBe(headers['Wechatpay-Nonce']); // …signed again
          return [params2, copyBody];
        };
        const together = ctx.vars.wxpayRepeatTogether ? await repeat() : undefined;
        const [answer, togetherAnswer] = await Promise.all([
          post(`${receiver.url}${params.url as string}`, headers, body),
          together &&
            post(
              `${receiver.url}${together[0].url as string}`,
              together[0].headers as Record<string, string>,
              together[1],
            ),
        ]);
        // The answers come back in either order; each is judged against its own request.
        if (together && togetherAnswer) {
          await call(processor.wxpayJudge, together[0], togetherAnswer, ctx, events);
          copies.together++;
        }
        await call(processor.wxpayJudge, params, answer, ctx, events);
        if (ctx.vars.wxpayRepeatLater) {
          const [later, laterBody] = await repeat();
          const laterAnswer = await post(
            `${receiver.url}${later.url as string}`,
            later.headers as Record<string, string>,
            laterBody,
          );
          await call(processor.wxpayJudge, later, laterAnswer, ctx, events);
          copies.later++;
        }
        expect(ctx.vars.wxpayRepeatTogether && ctx.vars.wxpayRepeatLater).toBeFalsy();
      }
      expect(copies.together).toBeGreaterThan(0);
      expect(copies.later).toBeGreaterThan(0);
      const sent = (counters['wxpay.sent.v3.pay'] ?? 0) + (counters['wxpay.sent.v3.refund'] ?? 0);
      expect(sent).toBe(vus);
      expect(counters['wxpay.sent.copies']).toBe(copies.together + copies.later);
      expect(counters['wxpay.sent.copies_at_once']).toBe(copies.together);
      expect(counters['wxpay.acknowledged']).toBe(vus + counters['wxpay.sent.copies']!);
      expect(histograms['wxpay.answer_ms']).toHaveLength(counters['wxpay.acknowledged']!);
      expect(receiver.records.size.payments + receiver.records.size.refunds).toBe(vus);

      // The same judge as run: a 500 with a duplicate-key message, and a late answer.
      const ctx = { vars: {} as Record<string, unknown> };
      const params = requestParams(step);
      await call(processor.wxpayPrepare, ctx, events);
      await call(processor.wxpaySend, params, ctx, events);
      await call(
        processor.wxpayJudge,
        params,
        {
          statusCode: 500,
          headers: { 'content-type': 'application/json' },
          body: `{"code":"FAIL","message":"Duplicate entry 'x' for key 'PRIMARY'"}`,
          timings: { phases: { total: 40 } },
        },
        ctx,
        events,
      );
      await call(
        processor.wxpayJudge,
        params,
        { statusCode: 204, headers: {}, body: '', timings: { phases: { total: 6_000 } } },
        ctx,
        events,
      );
      expect(counters['wxpay.failed.duplicate-order']).toBe(1);
      expect(counters['wxpay.failed.slow']).toBe(1);
      expect(counters['wxpay.over_5s']).toBe(1);
    } finally {
      process.env = saved;
    }
  });

  it('through the CLI: says how to run it, keeps the keys out of its output, and --check knows when the files are stale', () => {
    const project = join(dir, 'project');
    mkdirSync(join(project, 'keys'), { recursive: true });
    writeFileSync(join(project, 'keys/p.pem'), keys.publicKey.privateKeyPem);
    writeFileSync(
      join(project, 'wxpay-notify.json'),
      JSON.stringify({
        name: 'shop',
        appid: 'wx2421b1c4370ec43b',
        mchid: '1900000109',
        v3: {
          notifyUrl: 'http://127.0.0.1:18080/n',
          refundNotifyUrl: 'http://127.0.0.1:18080/r',
          apiV3Key: '${WXPAY_V3_API_KEY}',
          platform: { privateKeyFile: 'keys/p.pem', serial: keys.publicKey.keyId },
        },
      }),
    );
    const cli = (...args: string[]): { status: number | null; out: string } => {
      const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'dist/cli.js'), ...args], {
        cwd: project,
        encoding: 'utf8',
        env: { ...process.env, WXPAY_V3_API_KEY: keys.apiV3Key },
      });
      return { status: r.status, out: r.stdout + r.stderr };
    };
    const generated = cli('generate', '-c', 'wxpay-notify.json', '-o', 'load', '--format', 'artillery');
    expect(generated.status).toBe(0);
    expect(generated.out).toBe(
      'wrote load/shop.artillery.yml\nwrote load/shop.artillery-processor.cjs\nwrote load/shop.artillery.env\n' +
        'load/shop.artillery.env holds the test keys (mode 0600): do not commit it.\n' +
        'Run it with Artillery 2 (not a dependency of wxpay-notify): npx artillery run --dotenv load/shop.artillery.env load/shop.artillery.yml\n' +
        'Distributed (run-fargate, run-lambda, run-aci) and the metrics: docs/artillery.md\n',
    );
    expect(cli('generate', '-c', 'wxpay-notify.json', '-o', 'load', '--format', 'artillery', '--check')).toEqual({
      status: 0,
      out: 'up to date: load/shop.artillery.yml, load/shop.artillery-processor.cjs, load/shop.artillery.env\n',
    });
    writeFileSync(join(project, 'load/shop.artillery.yml'), 'edited\n');
    const stale = cli('generate', '-c', 'wxpay-notify.json', '-o', 'load', '--format', 'artillery', '--check');
    expect(stale.status).toBe(1);
    expect(stale.out).toContain(
      'stale: load/shop.artillery.yml differs from what wxpay-notify.json generates; run `wxpay-notify generate -c wxpay-notify.json --format artillery -o load`',
    );
  }, 90_000);

  /** Artillery's own CLI on the generated files (phases overridden: a short run), against `target`. */
  async function runArtillery(target: string, phase: { duration: number; arrivalRate: number }) {
    const report = join(dir, `report-${phase.duration}-${phase.arrivalRate}-${target.split(':').pop()}.json`);
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        ARTILLERY_BIN!,
        [
          'run',
          '--dotenv',
          paths.env,
          '--target',
          target,
          '--overrides',
          JSON.stringify({ config: { phases: [phase] } }),
          '--output',
          report,
          paths.scenario,
        ],
        { env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 150_000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const counters = (JSON.parse(readFileSync(report, 'utf8')) as { aggregate: { counters: Record<string, number> } })
      .aggregate.counters;
    return { output, counters };
  }

  it.skipIf(!ARTILLERY_BIN)(
    'runs unchanged under the Artillery CLI (set ARTILLERY_BIN to an artillery 2 binary to run this)',
    async () => {
      const before = receiver.records.size.payments + receiver.records.size.refunds;
      const { output, counters } = await runArtillery(receiver.url, { duration: 3, arrivalRate: 5 });
      expect(output).toContain('wxpay.acknowledged');
      const failed = Object.keys(counters).filter((k) => k.startsWith('wxpay.failed.') || k.startsWith('errors.'));
      expect(failed).toEqual([]);
      expect(counters['wxpay.acknowledged']).toBe(counters['http.requests']);
      expect(counters['wxpay.sent.v3.pay']! + counters['wxpay.sent.v3.refund']!).toBe(counters['vusers.created']);
      // Every request is a first delivery or WeChat's repeat of one (the receiver records it once).
      expect(counters['http.requests']).toBe(counters['vusers.created']! + (counters['wxpay.sent.copies'] ?? 0));
      expect(receiver.records.size.payments + receiver.records.size.refunds - before).toBe(counters['vusers.created']);
    },
    180_000,
  );

  it.skipIf(!ARTILLERY_BIN)(
    'under the Artillery CLI, a copy sent at the same instant races the first delivery: a handler that 500s on a race shows it',
    async () => {
      // Processing takes 300 ms and a copy arriving meanwhile gets a 500 with a duplicate-key message.
      const racy = await startReceiver({
        ...receiverOptionsFromConfig(demoConfig(keys, 'http://127.0.0.1:1', dir)),
        faults: { race: { windowMs: 300 } },
      });
      try {
        // 40 virtual users: the processor repeats 1 in 10, half of those at once (2 at least).
        const { counters } = await runArtillery(racy.url, { duration: 4, arrivalRate: 10 });
        expect(counters['wxpay.sent.copies_at_once']).toBeGreaterThanOrEqual(2);
        // Each copy at once arrived while the first was processed; the copies sent after an answer did not.
        expect(counters['wxpay.failed.duplicate-order']).toBe(counters['wxpay.sent.copies_at_once']);
        expect(counters['wxpay.acknowledged']).toBe(
          counters['http.requests']! - counters['wxpay.sent.copies_at_once']!,
        );
      } finally {
        await racy.close();
      }
    },
    180_000,
  );
});

function post(
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
  timings: { phases: { total: number } };
}> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () =>
        resolve({
          statusCode: res.statusCode ?? 0,
          headers: res.headers,
          body: text,
          timings: { phases: { total: performance.now() - started } },
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}
