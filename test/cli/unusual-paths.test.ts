import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { receiverOptionsFromConfig } from '../../src/receiver/from-config.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import type { StartedReceiver } from '../../src/receiver/types.js';
import { copyPackage, runCli } from '../support/run-cli.js';

/**
 * Users clone and install where they like: a folder with a space and Chinese or accented letters in
 * its name (`~/My Projects/微信支付 ü`). The package's own files are copied there (its dependencies
 * stay where they are) and its CLI, run from there, writes a project into another such folder, generates a collection and runs two cases
 * against a receiver: it must find its templates and sandbox scripts, and print and write the
 * paths as they are.
 */
const PLACE = 'wxpay notify 微信支付 Zürich';

describe('the CLI from a path with a space and non-ASCII characters', () => {
  const base = mkdtempSync(join(tmpdir(), 'wxpay-notify-paths-'));
  const install = join(base, PLACE, 'node_modules', 'wxpay-notify');
  const project = join(base, '我的 项目 é');
  let cli = '';
  let receiver: StartedReceiver | undefined;
  let secrets: Record<string, string> = {};

  beforeAll(() => {
    mkdirSync(install, { recursive: true });
    cli = copyPackage(install, 'link');
  });
  afterAll(async () => {
    await receiver?.close();
    rmSync(base, { recursive: true, force: true });
  });

  it('init writes the project there, and the command it prints loads the keys from there', async () => {
    const result = await runCli(['init', '--dir', project], { cliPath: cli, cwd: base });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`wrote TEST keys and an example config in ${project}`);
    expect(readdirSync(join(project, 'keys')).sort()).toContain('secrets.env');
    // The printed `set -a; . '…/keys/secrets.env'; set +a`, quoted for the shell, run as a user would.
    const load = result.stdout
      .split('\n')
      .find((line) => line.includes('secrets.env') && line.trim().startsWith('set -a'))!;
    expect(load).toContain("'");
    const printed = execFileSync('sh', ['-c', `${load.trim()}; env`], {
      cwd: base,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    secrets = Object.fromEntries(
      printed
        .split('\n')
        .filter((line) => line.startsWith('WXPAY_'))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(Object.keys(secrets).sort()).toEqual(['WXPAY_V2_API_KEY', 'WXPAY_V3_API_KEY']);
  });

  it('generate writes the collection and environment there', async () => {
    const out = join(project, '输出 files');
    const result = await runCli(['generate', '-c', join(project, 'wxpay-notify.jsonc'), '-o', out, '--no-secrets'], {
      cliPath: cli,
      cwd: project,
      env: secrets,
    });
    expect(result.code, result.stderr).toBe(0);
    const files = readdirSync(out).sort();
    expect(files.some((f) => f.endsWith('.postman_collection.json'))).toBe(true);
    expect(files.some((f) => f.endsWith('.postman_environment.json'))).toBe(true);
    const collection = readFileSync(
      join(
        out,
        files.find((f) => f.endsWith('.postman_collection.json'))!,
      ),
      'utf8',
    );
    // The sandbox scripts were found and inlined from the installed copy.
    expect(collection).toContain('X-Wxpay-Notify-Case');
  });

  it('run sends two cases to a receiver and writes its report there', async () => {
    const configFile = join(project, 'wxpay-notify.jsonc');
    const config = await loadConfig(configFile, { ...process.env, ...secrets });
    receiver = await startReceiver(receiverOptionsFromConfig(config), { host: '127.0.0.1', port: 0 });
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replaceAll('http://127.0.0.1:8080', receiver.url));
    const reports = join(project, '报告 out');
    const result = await runCli(
      [
        'run',
        '-c',
        configFile,
        '--only',
        'v2.pay.success,v3.pay.success',
        '--reporters',
        'json',
        '--reporter-dir',
        reports,
      ],
      {
        cliPath: cli,
        cwd: project,
        env: secrets,
      },
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^v2\.pay\.success\s.*PASS/m);
    expect(result.stdout).toMatch(/^v3\.pay\.success\s.*PASS/m);
    expect(result.stdout).toMatch(/^2 passed, 0 failed/m);
    expect(existsSync(reports) && readdirSync(reports).some((f) => f.endsWith('.json'))).toBe(true);
  });
});
