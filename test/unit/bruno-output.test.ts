import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { brunoScripts, sandboxScripts } from '../../src/collection/sandbox-scripts.js';
import { secretValues } from '../../src/collection/variables.js';
import { demoConfig } from '../../src/commands/demo.js';
import { generateFiles } from '../../src/commands/generate-files.js';
import { generateCommand } from '../../src/commands/generate.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { testKeys } from '../support/suite-fixture.js';

const config = demoConfig(testKeys(), 'http://127.0.0.1:8080', '/nonexistent');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'wxpay-notify-bruno-unit-'));
  dirs.push(d);
  return d;
};

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('generate --format bruno', () => {
  const files = generateFiles(config, { outDir: '/out', withSecrets: true, format: 'bruno' });
  const byPath = new Map(files.map((f) => [f.path, f]));
  const requests = files.filter((f) => f.path.endsWith('.bru') && !/(collection|folder)\.bru$/.test(f.path));

  it('writes a collection folder (bruno.json, collection.bru, a folder per Postman folder) and the environment beside it', () => {
    expect(byPath.has('/out/demo.bruno/bruno.json')).toBe(true);
    expect(byPath.has('/out/demo.bruno/collection.bru')).toBe(true);
    expect(byPath.get('/out/demo.bruno_environment.json')?.mode).toBe(0o600);
    const postman = buildCollection(config, selectCases(config)) as {
      item: { name: string; item: { name: string }[] }[];
    };
    const folders = files.filter((f) => f.path.endsWith('/folder.bru'));
    expect(folders.map((f) => /name: (.*)/.exec(f.content)![1])).toEqual(postman.item.map((f) => f.name));
    expect(folders.map((f) => Number(/seq: (\d+)/.exec(f.content)![1]))).toEqual(postman.item.map((_, i) => i + 1));
    // One .bru per Postman request, with its name, in its folder, in its order.
    expect(requests.map((f) => /name: (.*)/.exec(f.content)![1])).toEqual(
      postman.item.flatMap((f) => f.item.map((i) => i.name)),
    );
  });

  it('names each request file after its case id (and copy), and keeps the case in a disabled header', () => {
    const cases = selectCases(config);
    const expected = cases.flatMap((c) =>
      (c.copies ?? 1) > 1 ? Array.from({ length: c.copies! }, (_, i) => `${c.id}-${i + 1}.bru`) : [`${c.id}.bru`],
    );
    expect(requests.map((f) => f.path.split('/').pop()).sort()).toEqual(expected.sort());
    for (const f of requests) {
      const spec = JSON.parse(/^ {2}~X-Wxpay-Notify-Case: (.*)$/m.exec(f.content)![1]!) as { id: string };
      expect(f.path.split('/').pop()!.startsWith(spec.id)).toBe(true);
      expect(f.content).toContain('  followRedirects: false\n');
    }
  });

  it('keeps every secret out of the collection folder; the environment has them, each PEM on one line', () => {
    const secrets = secretValues(config);
    expect(secrets.length).toBeGreaterThan(0);
    for (const f of files.filter((x) => x.path.startsWith('/out/demo.bruno/'))) {
      for (const secret of secrets)
        for (const line of secret.split('\n').filter((l) => l.length > 20))
          expect(f.content.includes(line), f.path).toBe(false);
    }
    const env = JSON.parse(byPath.get('/out/demo.bruno_environment.json')!.content) as {
      variables: { name: string; value: string; secret: boolean }[];
    };
    const pem = env.variables.find((v) => v.name === 'v3_platform_private_key')!;
    expect(pem.secret).toBe(true);
    expect(pem.value).not.toContain('\n');
    expect(pem.value.replace(/\\n/g, '\n')).toBe(config.v3!.platform!.privateKeyPem);
    expect(env.variables.find((v) => v.name === 'v3_notify_url')).toMatchObject({
      value: config.v3!.notifyUrl,
      secret: false,
    });
  });

  it('is deterministic: the same config gives the same bytes', () => {
    const again = generateFiles(config, { outDir: '/out', withSecrets: true, format: 'bruno' });
    expect(again).toEqual(files);
  });

  it('runs the same signer and judge as the Postman collection: only the Bruno glue is added', () => {
    const postman = sandboxScripts();
    const bruno = brunoScripts();
    for (const kind of ['prerequest', 'test'] as const) {
      // Every function of the Postman script, library and entry alike, is in the Bruno script verbatim.
      const functions = postman[kind].split(/\n(?=function |var )/).filter((block) => block.startsWith('function '));
      expect(functions.length).toBeGreaterThan(5);
      for (const block of functions)
        expect(bruno[kind]).toContain(block.replace(/\n(if \(typeof pm|else if|\}\)\(\);)[\s\S]*$/, ''));
    }
    const collectionBru = files.find((f) => f.path.endsWith('collection.bru'))!.content;
    expect(collectionBru).toContain('script:pre-request {\n  // wxpay-notify: generated');
    expect(collectionBru).toContain('\ntests {\n');
  });
});

describe('generate --format bruno on disk', () => {
  it('writes the files; --check passes, then names a stray request file; a regenerate removes it', async () => {
    const dir = tempDir();
    const configPath = join(dir, 'wxpay-notify.json');
    writeFileSync(join(dir, 'v3.pem'), config.v3!.platform!.privateKeyPem);
    writeFileSync(join(dir, 'v3-cert.pem'), config.v3!.platformCertificate!.privateKeyPem);
    writeFileSync(
      configPath,
      JSON.stringify({
        name: 'shop',
        appid: config.appid,
        mchid: config.mchid,
        v3: {
          notifyUrl: config.v3!.notifyUrl,
          refundNotifyUrl: config.v3!.refundNotifyUrl,
          apiV3Key: config.v3!.apiV3Key,
          platform: { privateKeyFile: 'v3.pem', serial: config.v3!.platform!.serial },
        },
      }),
    );
    const out = join(dir, 'collections');
    const args = { config: configPath, out, check: false, secrets: true, format: 'bruno' as const };
    const io = memoryIO();
    expect(await generateCommand(args, io)).toBe(0);
    expect(io.stdout).toContain('npx @usebruno/cli run -r --env-file ../shop.bruno_environment.json');
    expect(statSync(join(out, 'shop.bruno_environment.json')).mode & 0o777).toBe(0o600);
    const written = listFiles(join(out, 'shop.bruno')).map((p) => relative(out, p));
    expect(written).toContain('shop.bruno/collection.bru');

    expect(await generateCommand({ ...args, check: true }, memoryIO())).toBe(0);
    const stray = join(out, 'shop.bruno', 'v3 payment (支付成功通知)', 'v3.pay.renamed.bru');
    writeFileSync(stray, readFileSync(join(out, 'shop.bruno', 'v3 payment (支付成功通知)', 'v3.pay.success.bru')));
    const check = memoryIO();
    expect(await generateCommand({ ...args, check: true }, check)).toBe(1);
    expect(check.stderr).toContain('v3.pay.renamed.bru');
    expect(check.stderr).toContain('--format bruno');
    // A folder no case lives in any more goes as a whole.
    mkdirSync(join(out, 'shop.bruno', 'old folder'));
    writeFileSync(join(out, 'shop.bruno', 'old folder', 'folder.bru'), 'meta {\n  name: old folder\n  seq: 9\n}\n');
    const again = memoryIO();
    expect(await generateCommand(args, again)).toBe(0);
    expect(again.stdout).toContain('removed');
    expect(
      listFiles(join(out, 'shop.bruno'))
        .map((p) => relative(out, p))
        .sort(),
    ).toEqual([...written].sort());
    expect(existsSync(join(out, 'shop.bruno', 'old folder'))).toBe(false);
  });
});
