import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../../src/cli.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { servePort } from '../../src/commands/serve.js';
import { demoConfig } from '../../src/commands/demo.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { testKeys } from '../support/suite-fixture.js';

const ours = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('--version', () => {
  const host = mkdtempSync(join(tmpdir(), 'wxpay-notify-host-'));
  afterAll(() => rmSync(host, { recursive: true, force: true }));

  it("prints wxpay-notify's own version, run from a project with another version", () => {
    writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'host-project', version: '9.9.9' }));
    const out = execFileSync(process.execPath, [join(PACKAGE_ROOT, 'dist/cli.js'), '--version'], {
      cwd: host,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe(ours);
  });
});

describe("serve listens where the config's notify URLs point", () => {
  const config = demoConfig(testKeys(), 'http://127.0.0.1:9123', '/nonexistent');

  it("takes the URLs' port; without one, 8080 with a note; different ports need --port", () => {
    expect(servePort(config)).toEqual({ port: 9123 });
    expect(servePort(demoConfig(testKeys(), 'https://shop.example.com', '/x'))).toMatchObject({
      port: 8080,
      note: expect.stringMatching(/name no port; listening on 8080/),
    });
    const mixed = { ...config, v2: { ...config.v2!, refundNotifyUrl: 'http://127.0.0.1:9124/wxpay/v2/refund-notify' } };
    expect(() => servePort(mixed)).toThrow(/notify URLs use different ports \(9123, 9124\).*pass --port/);
  });

  it('`serve -c` without --port answers on the port the config names', async () => {
    // A port that is free now: the config's URLs name it, as a user's would.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-serve-'));
    const init = memoryIO();
    expect(await cli(['init', '--dir', dir], init)).toBe(0);
    const file = join(dir, 'wxpay-notify.jsonc');
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`));
    const secrets = Object.fromEntries(
      readFileSync(join(dir, 'keys/secrets.env'), 'utf8')
        .split('\n')
        .filter((l) => /^\w+=/.test(l))
        .map((l) => l.split('=') as [string, string]),
    );
    Object.assign(process.env, secrets);
    const io = memoryIO();
    const served = cli(['serve', '-c', file], io);
    for (let i = 0; i < 100 && !io.stdout.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 50));
    try {
      expect(io.stdout).toContain(`listening on http://127.0.0.1:${port}`);
      expect(io.stdout).toContain(`POST http://127.0.0.1:${port}/wxpay/v3/notify`);
      expect(io.stdout).toContain("The config's notify URLs point here");
      const answer = await fetch(`http://127.0.0.1:${port}/wxpay/v3/notify`, { method: 'POST', body: '{}' });
      expect(answer.status).toBe(401);
    } finally {
      process.emit('SIGINT'); // serve stops on Ctrl-C
      expect(await served).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
