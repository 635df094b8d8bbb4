import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfig } from '../../src/commands/demo.js';
import { buildCase, listCases } from '../../src/library/index.js';
import { createNotifyHandler, receiverOptionsFromConfig } from '../../src/library/receiver.js';
import { runSuite } from '../../src/library/runner.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { testKeys } from '../support/suite-fixture.js';

const keys = testKeys();
const config = demoConfig(keys, 'http://127.0.0.1', '/nonexistent');

describe('wxpay-notify/receiver: the reference receiver as middleware', () => {
  const logged: string[] = [];
  const app = express();
  app.get('/health', (_req, res) => void res.send('ok'));
  app.use(
    createNotifyHandler({ ...receiverOptionsFromConfig(config), log: (e) => logged.push(`${e.outcome} ${e.path}`) }),
  );
  app.use((_req, res) => void res.status(404).send('app 404'));

  it("answers notifications on the config's paths and passes every other request on", async () => {
    const genuine = buildCase('v3.pay.success', config).deliveries[0]!;
    expect((await request(app).post('/wxpay/v3/notify').set(genuine.headers).send(genuine.body)).status).toBe(204);
    expect((await request(app).get('/health')).text).toBe('ok');
    expect((await request(app).post('/other').send('x')).text).toBe('app 404');
    expect(logged).toEqual(['ack /wxpay/v3/notify']);
  });

  it('behind express.raw() it still verifies the bytes; behind express.json() it says the body was parsed', async () => {
    const raw = express().use(
      express.raw({ type: () => true }),
      createNotifyHandler(receiverOptionsFromConfig(config)),
    );
    const genuine = buildCase('v3.robust.non-ascii', config).deliveries[0]!;
    expect((await request(raw).post('/wxpay/v3/notify').set(genuine.headers).send(genuine.body)).status).toBe(204);
    const parsed = express().use(express.json(), createNotifyHandler(receiverOptionsFromConfig(config)));
    const res = await request(parsed).post('/wxpay/v3/notify').set(genuine.headers).send(genuine.body);
    expect(res.status).toBe(500);
    expect(res.body.message).toMatch(/mount it before body parsers such as express\.json\(\)/);
  });
});

describe('wxpay-notify/runner', () => {
  let server: ReturnType<typeof createServer>;
  let runConfig: typeof config;

  beforeAll(async () => {
    server = createServer(createNotifyHandler(receiverOptionsFromConfig(config)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    runConfig = demoConfig(keys, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, '/nonexistent');
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('runSuite runs the selected cases with newman and returns the JSON results, secrets masked', async () => {
    const results = await runSuite(runConfig, { only: ['v3.pay.success', 'v2.forged'] });
    expect(results.tool).toBe('wxpay-notify');
    // The forged v2 cases bring their genuine controls along (a rejection means nothing without them).
    expect(results.addedControls.map((c) => c.id)).toEqual(['v2.pay.success', 'v2.refund.success']);
    const wanted = new Set(['v3.pay.success', 'v2.pay.success', 'v2.refund.success']);
    expect(results.cases.map((c) => c.caseId)).toEqual(
      listCases(runConfig)
        .map((c) => c.id)
        .filter((id) => wanted.has(id) || id.startsWith('v2.forged.')),
    );
    expect(results.totals.failed).toBe(0);
    expect(results.cases.every((c) => c.verdict === 'pass')).toBe(true);
    const text = JSON.stringify(results);
    expect(text).not.toContain(keys.apiKey);
    expect(text).not.toContain(keys.apiV3Key);
  }, 60_000);

  it('runSuite leaves Ctrl-C to its caller: a host that handles SIGINT keeps running and gets the results so far', async () => {
    // A host program with its own Ctrl-C handling (it stops the run through a signal). The third
    // notification hangs; once it has arrived, the host is sent SIGINT.
    const host = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      import { createServer } from 'node:http';
      const { runSuite } = await import(${JSON.stringify(`${PACKAGE_ROOT}/dist/library/runner.js`)});
      const { demoConfig } = await import(${JSON.stringify(`${PACKAGE_ROOT}/dist/commands/demo.js`)});
      let arrived = 0;
      const server = createServer((req, res) => {
        req.resume();
        if (++arrived <= 2) return void res.writeHead(204).end();
        process.kill(process.pid, 'SIGINT');
      });
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const controller = new AbortController();
      process.on('SIGINT', () => controller.abort());
      const config = demoConfig(JSON.parse(process.env.KEYS), 'http://127.0.0.1:' + server.address().port, '/nonexistent');
      const results = await runSuite(config, { only: ['v3.pay.success', 'v3.pay.promotion', 'v3.pay.combine'], signal: controller.signal });
      server.closeAllConnections();
      server.close();
      console.log(JSON.stringify({ aborted: results.aborted, passed: results.cases.filter((c) => c.verdict === 'pass').map((c) => c.caseId) }));
    `,
      ],
      { env: { ...process.env, KEYS: JSON.stringify(keys) }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    host.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    host.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => host.once('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ aborted: true, passed: ['v3.pay.success', 'v3.pay.promotion'] });
  }, 60_000);

  it('importing it loads neither newman nor postman-collection', () => {
    const probe = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      import { createRequire } from 'node:module';
      await import(${JSON.stringify(`${PACKAGE_ROOT}/dist/library/runner.js`)});
      await import(${JSON.stringify(`${PACKAGE_ROOT}/dist/library/index.js`)});
      await import(${JSON.stringify(`${PACKAGE_ROOT}/dist/library/receiver.js`)});
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(loaded.filter((p) => /[\\/](newman|postman-collection)[\\/]/.test(p)).length));
    `,
      ],
      { encoding: 'utf8' },
    );
    expect(probe.stderr).toBe('');
    expect(probe.stdout.trim()).toBe('0');
  });
});
