import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../../src/cli.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { initProject } from '../../src/keys/init-project.js';
import { cliReadableBy, PERMISSION_USER, runCli, whyNoPermissionTests } from '../support/run-cli.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * Mistakes a user makes with paths, ports and hosts: each must end with exit 2 and one line that
 * names the path (or port, host) and what is wrong, never exit 3 with a stack trace, never a hang.
 */
// Root ignores permission bits, so as root the permission cases run the CLI as nobody.
const NO_PERMISSION_TESTS = whyNoPermissionTests();
if (NO_PERMISSION_TESTS) console.warn(`usage-errors: the permission cases are skipped: ${NO_PERMISSION_TESTS}`);

function readSecrets(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^\w+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** Exit 2, exactly one line on stderr naming `subject`, nothing that looks like a crash. */
function expectOneLineUsageError(
  result: { code: number | null; stderr: string; stdout?: string },
  subject: string | RegExp,
): void {
  const lines = result.stderr.trim().split('\n');
  expect(result.code, result.stderr).toBe(2);
  expect(lines, result.stderr).toHaveLength(1);
  if (typeof subject === 'string') expect(lines[0]).toContain(subject);
  else expect(lines[0]).toMatch(subject);
  expect(result.stderr + (result.stdout ?? '')).not.toMatch(/internal error|^\s+at .+:\d+:\d+\)?$/m);
}

async function runInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO();
  const code = await cli(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

/** The built CLI in a child process, as `nobody` when `unprivileged` and we are root. */
function runChild(
  args: string[],
  options: { cwd: string; env: Record<string, string>; unprivileged?: boolean; timeoutMs?: number },
) {
  return runCli(args, {
    cwd: options.cwd,
    env: options.env,
    timeoutMs: options.timeoutMs ?? 60_000,
    ...(options.unprivileged && PERMISSION_USER ? { user: PERMISSION_USER } : {}),
  });
}

/** Gives the whole tree to `nobody` (when we are root), so only the permission bits set later refuse. */
function handToNobody(dir: string): void {
  if (!PERMISSION_USER) return;
  chownSync(dir, PERMISSION_USER.uid, PERMISSION_USER.gid);
  for (const entry of readdirSync(dir, { recursive: true }) as string[])
    chownSync(join(dir, entry), PERMISSION_USER.uid, PERMISSION_USER.gid);
}

describe('output paths: exit 2 with one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-paths-'));
  const config = join(dir, 'wxpay-notify.jsonc');
  const aFile = join(dir, 'a-file.txt');
  const readOnly = join(dir, 'read-only');
  let env: Record<string, string>;

  beforeAll(async () => {
    await initProject({ dir, keys: testKeys() });
    env = readSecrets(join(dir, 'keys/secrets.env'));
    Object.assign(process.env, env);
    writeFileSync(aFile, 'not a folder\n');
    mkdirSync(readOnly);
    chmodSync(dir, 0o755);
    if (!NO_PERMISSION_TESTS) handToNobody(dir);
    // Copies the CLI where nobody can read it, if the checkout is private (once, here, not in a test).
    if (!NO_PERMISSION_TESTS && PERMISSION_USER) cliReadableBy(PERMISSION_USER);
    chmodSync(readOnly, 0o555);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generate -o <a file>', async () => {
    expectOneLineUsageError(await runInProcess(['generate', '-c', config, '-o', aFile, '--no-secrets']), aFile);
  });

  it('generate -o <a path under a file>', async () => {
    expectOneLineUsageError(
      await runInProcess(['generate', '-c', config, '-o', join(aFile, 'out'), '--no-secrets']),
      aFile,
    );
  });

  it.skipIf(NO_PERMISSION_TESTS)(
    'generate -o <a folder without write permission>',
    async () => {
      const result = await runChild(['generate', '-c', config, '-o', join(readOnly, 'out'), '--no-secrets'], {
        cwd: dir,
        env,
        unprivileged: true,
      });
      expectOneLineUsageError(result, readOnly);
      expect(result.stderr).toMatch(/permission/i);
    },
    90_000,
  );

  it('generate -o /proc/x (where a recursive mkdir never returns) is refused at once', async () => {
    const result = await runChild(['generate', '-c', config, '-o', '/proc/wxpay-notify-x/out', '--no-secrets'], {
      cwd: dir,
      env,
      timeoutMs: 60_000,
    });
    expect(result.timedOut, 'generate hung').toBe(false);
    expectOneLineUsageError(result, '/proc/wxpay-notify-x');
  }, 90_000);

  it('run --reporter-dir <a file> fails before anything is sent', async () => {
    const result = await runInProcess(['run', '-c', config, '--reporters', 'junit', '--reporter-dir', aFile]);
    expectOneLineUsageError(result, aFile);
    expect(result.stdout).toBe(''); // no table: nothing ran
  });

  it.skipIf(NO_PERMISSION_TESTS)(
    'run --reporter-dir <a folder without write permission> fails before anything is sent',
    async () => {
      const result = await runChild(['run', '-c', config, '--reporters', 'junit', '--reporter-dir', readOnly], {
        cwd: dir,
        env,
        unprivileged: true,
      });
      expectOneLineUsageError(result, readOnly);
      expect(result.stdout).toBe('');
    },
    90_000,
  );

  it('init --dir <a file>', async () => {
    expectOneLineUsageError(await runInProcess(['init', '--dir', aFile]), aFile);
  });

  it.skipIf(NO_PERMISSION_TESTS)(
    'init --dir <a folder without write permission>',
    async () => {
      const result = await runChild(['init', '--dir', join(readOnly, 'project')], {
        cwd: dir,
        env,
        unprivileged: true,
      });
      expectOneLineUsageError(result, readOnly);
      expect(existsSync(join(readOnly, 'project'))).toBe(false);
    },
    90_000,
  );

  it('init --dir /proc/x is refused at once', async () => {
    const result = await runChild(['init', '--dir', '/proc/wxpay-notify-x'], { cwd: dir, env, timeoutMs: 60_000 });
    expect(result.timedOut, 'init hung').toBe(false);
    expectOneLineUsageError(result, '/proc/wxpay-notify-x');
  }, 90_000);
});

describe('serve: bad ports and hosts, exit 2 with the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-serve-'));
  const config = join(dir, 'wxpay-notify.jsonc');
  let busy: Server;
  let busyPort = 0;

  beforeAll(async () => {
    await initProject({ dir, keys: testKeys() });
    Object.assign(process.env, readSecrets(join(dir, 'keys/secrets.env')));
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    busyPort = (busy.address() as AddressInfo).port;
  }, 60_000);
  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([['99999'], ['-1'], ['abc'], ['1.5']])('--port %s', async (port) => {
    expectOneLineUsageError(await runInProcess(['serve', '-c', config, '--port', port]), /--port .*0.*65535/);
  });

  it('a port already in use', async () => {
    expectOneLineUsageError(
      await runInProcess(['serve', '-c', config, '--port', String(busyPort)]),
      new RegExp(`${busyPort}.*in use`),
    );
  });

  it('a --host that is not an address of this machine', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to a machine.
    expectOneLineUsageError(
      await runInProcess(['serve', '-c', config, '--port', '0', '--host', '192.0.2.1']),
      '192.0.2.1',
    );
  });

  it('a --host that is no address at all', async () => {
    expectOneLineUsageError(
      await runInProcess(['serve', '-c', config, '--port', '0', '--host', 'no such host!']),
      'no such host!',
    );
  });

  it('v2 and v3 configured on the same path', async () => {
    const text = readFileSync(config, 'utf8');
    const clash = join(dir, 'clash.json');
    writeFileSync(
      clash,
      text.replace('http://127.0.0.1:8080/wxpay/v3/notify', 'http://127.0.0.1:8080/wxpay/v2/notify'),
    );
    const result = await runInProcess(['serve', '-c', clash, '--port', '0']);
    expectOneLineUsageError(result, '/wxpay/v2/notify');
    expect(result.stderr).toMatch(/v2.*v3|v3.*v2/);
  });
});

describe('the unprivileged user can run the CLI at all (the permission tests above mean something)', () => {
  it.skipIf(NO_PERMISSION_TESTS)(
    'generate into a writable folder as the same user succeeds',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-nobody-'));
      try {
        await initProject({ dir, keys: testKeys() });
        const env = readSecrets(join(dir, 'keys/secrets.env'));
        chmodSync(dir, 0o755);
        handToNobody(dir);
        const result = await runChild(
          ['generate', '-c', join(dir, 'wxpay-notify.jsonc'), '-o', join(dir, 'out'), '--no-secrets'],
          { cwd: dir, env, unprivileged: true },
        );
        expect(result.code, result.stderr).toBe(0);
        expect(statSync(join(dir, 'out')).isDirectory()).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    90_000,
  );
});
