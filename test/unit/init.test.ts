import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
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
import { join, relative, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateTestKeys, type TestKeys } from '../../src/keys/generate-keys.js';
import { INIT_FILES, SECRET_ENV } from '../../src/keys/init-files.js';
import { findGitRoot, InitConflictError, initProject } from '../../src/keys/init-project.js';
import { TRUST_KIT_FILES } from '../../src/keys/trust-kit.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

let keys: TestKeys;
let otherKeys: TestKeys;
const tmpDirs: string[] = [];

beforeAll(() => {
  keys = generateTestKeys();
  otherKeys = generateTestKeys();
});
afterEach(() => {
  while (tmpDirs.length > 0) rmSync(tmpDirs.pop()!, { recursive: true, force: true });
});

function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-init-'));
  tmpDirs.push(dir);
  return dir;
}

const mode = (path: string): number => statSync(path).mode & 0o777;
const read = (dir: string, rel: string): string => readFileSync(join(dir, ...rel.split('/')), 'utf8');

/** Every file under dir, relative, `/`-separated. */
function listFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) =>
      relative(dir, join(entry.parentPath ?? entry.path, entry.name))
        .split('\\')
        .join('/'),
    )
    .sort();
}

/** A string-aware JSONC reader: drops // comments outside strings, then JSON.parse. */
function parseJsonc(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += c;
    }
  }
  return JSON.parse(out);
}

const ALL_FILES = [...Object.values(INIT_FILES), ...Object.values(TRUST_KIT_FILES)].sort();

describe('initProject', () => {
  it('writes the config, secrets, private keys and trust kit with the right modes', async () => {
    const dir = tmp();
    const result = await initProject({ dir, keys });
    expect(listFiles(dir)).toEqual(ALL_FILES);
    expect(result.files.map((f) => relative(dir, f).split('\\').join('/')).sort()).toEqual(ALL_FILES);

    expect(mode(join(dir, 'keys'))).toBe(0o700);
    for (const secret of [
      INIT_FILES.secrets,
      INIT_FILES.publicKeyPrivate,
      INIT_FILES.certificatePrivate,
      TRUST_KIT_FILES.readme,
    ]) {
      expect(mode(join(dir, secret)), secret).toBe(0o600);
    }
    for (const open of [INIT_FILES.config, TRUST_KIT_FILES.publicKey, TRUST_KIT_FILES.certificate]) {
      expect(mode(join(dir, open)), open).toBe(0o644);
    }
    expect(read(dir, INIT_FILES.publicKeyPrivate)).toBe(keys.publicKey.privateKeyPem);
    expect(read(dir, TRUST_KIT_FILES.publicKey)).toBe(keys.publicKey.publicKeyPem);
    expect(new X509Certificate(read(dir, TRUST_KIT_FILES.certificate)).serialNumber.toUpperCase()).toBe(
      keys.certificate.serial,
    );
  });

  it('writes a JSONC config (README "Config reference") whose key files and serials match', async () => {
    const dir = tmp();
    await initProject({ dir, keys });
    const text = read(dir, INIT_FILES.config);
    // Comments stand on their own lines, so even a line-based stripper is safe with the URLs.
    expect(JSON.parse(text.replace(/^\s*\/\/.*$/gm, ''))).toEqual(parseJsonc(text));
    const config = parseJsonc(text) as any;
    expect(config.name).toBe('my-shop');
    // "$schema" names this package's schema.json, relative to the config, for editor completion.
    expect(resolve(dir, config.$schema)).toBe(join(PACKAGE_ROOT, 'src', 'config', 'schema.json'));
    expect(config.appid).toMatch(/^wx[0-9a-f]{16}$/);
    expect(config.mchid).toMatch(/^\d{10}$/);
    expect(config.v2).toEqual({
      notifyUrl: 'http://127.0.0.1:8080/wxpay/v2/notify',
      refundNotifyUrl: 'http://127.0.0.1:8080/wxpay/v2/refund-notify',
      apiKey: '${WXPAY_V2_API_KEY}',
      signType: 'MD5',
    });
    expect(config.v3.apiV3Key).toBe('${WXPAY_V3_API_KEY}');
    expect(config.v3.platform.serial).toBe(keys.publicKey.keyId);
    expect(config.v3.platformCertificate.serial).toBe(keys.certificate.serial);
    // The private keys the config names are the ones behind the trust kit.
    const pub = createPrivateKey(read(dir, config.v3.platform.privateKeyFile));
    expect(pub.export({ type: 'pkcs8', format: 'pem' })).toBe(keys.publicKey.privateKeyPem);
    const cert = new X509Certificate(read(dir, TRUST_KIT_FILES.certificate));
    expect(cert.checkPrivateKey(createPrivateKey(read(dir, config.v3.platformCertificate.privateKeyFile)))).toBe(true);
    expect(config.order).toMatchObject({ outTradeNo: expect.any(String), total: 100, openid: expect.any(String) });
  });

  it('writes secrets.env that a POSIX shell can load with the printed command', async () => {
    const dir = tmp();
    const { summary } = await initProject({ dir, keys });
    const command = summary
      .split('\n')
      .find((line) => line.includes('set -a'))!
      .trim();
    const out = execFileSync(
      'sh',
      ['-c', `${command}; printf '%s %s' "$${SECRET_ENV.apiKey}" "$${SECRET_ENV.apiV3Key}"`],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
      },
    );
    expect(out).toBe(`${keys.apiKey} ${keys.apiV3Key}`);
  });

  it('prints where everything is but no secret', async () => {
    const dir = tmp();
    const { summary } = await initProject({ dir, keys });
    expect(summary).toContain(keys.publicKey.keyId);
    expect(summary).toContain(keys.certificate.serial);
    expect(summary).toContain(TRUST_KIT_FILES.publicKey);
    expect(summary).toContain(TRUST_KIT_FILES.certificate);
    expect(summary).toContain(INIT_FILES.secrets);
    expect(summary).not.toContain(keys.apiKey);
    expect(summary).not.toContain(keys.apiV3Key);
    expect(summary).not.toMatch(/PRIVATE KEY|BEGIN/);
    for (const pem of [keys.publicKey.privateKeyPem, keys.certificate.privateKeyPem]) {
      for (const line of pem.split('\n').slice(1, -2)) expect(summary).not.toContain(line);
    }
  });

  it('refuses to overwrite, naming the file and --force, and leaves everything as it was', async () => {
    const dir = tmp();
    await initProject({ dir, keys });
    const before = Object.fromEntries(ALL_FILES.map((f) => [f, read(dir, f)]));
    const error = await initProject({ dir, keys: otherKeys }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InitConflictError);
    expect((error as Error).message).toContain('wxpay-notify.jsonc');
    expect((error as Error).message).toContain('--force');
    expect(Object.fromEntries(ALL_FILES.map((f) => [f, read(dir, f)]))).toEqual(before);
    expect(listFiles(dir)).toEqual(ALL_FILES);
  });

  it.each(['wxpay-notify.jsonc', 'wxpay-notify.json'])(
    'refuses when only %s exists (a config by either name), and writes nothing else',
    async (name) => {
      const dir = tmp();
      writeFileSync(join(dir, name), '{"mine": true}');
      await expect(initProject({ dir, keys })).rejects.toThrow(
        new RegExp(`overwrite ${name.replace('.', '\\.')} in .*--force`),
      );
      expect(listFiles(dir)).toEqual([name]);
      expect(readFileSync(join(dir, name), 'utf8')).toBe('{"mine": true}');
    },
  );

  it('replaces everything with --force, keeping the modes', async () => {
    const dir = tmp();
    await initProject({ dir, keys });
    await initProject({ dir, keys: otherKeys, force: true });
    expect(read(dir, INIT_FILES.publicKeyPrivate)).toBe(otherKeys.publicKey.privateKeyPem);
    expect(read(dir, TRUST_KIT_FILES.readme)).toContain(otherKeys.apiV3Key);
    expect(mode(join(dir, INIT_FILES.secrets))).toBe(0o600);
    expect(listFiles(dir)).toEqual(ALL_FILES);
  });

  it('writes nothing when a target is blocked by a directory, even with --force', async () => {
    const fresh = tmp();
    mkdirSync(join(fresh, 'trust-kit', 'README.md'), { recursive: true });
    await expect(initProject({ dir: fresh, keys, force: true })).rejects.toThrow(/trust-kit\/README\.md.*in the way/);
    expect(listFiles(fresh)).toEqual([]);
    expect(existsSync(join(fresh, 'keys'))).toBe(false);

    const dir = tmp();
    await initProject({ dir, keys });
    const before = Object.fromEntries(ALL_FILES.map((f) => [f, read(dir, f)]));
    rmSync(join(dir, 'keys', 'wechatpay-test-cert-private.pem'));
    mkdirSync(join(dir, 'keys', 'wechatpay-test-cert-private.pem'));
    await expect(initProject({ dir, keys: otherKeys, force: true })).rejects.toBeInstanceOf(InitConflictError);
    for (const file of ALL_FILES.filter((f) => f !== INIT_FILES.certificatePrivate)) {
      expect(read(dir, file), file).toBe(before[file]);
    }
    expect(listFiles(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('creates the folder when missing', async () => {
    const dir = join(tmp(), 'new', 'project');
    await initProject({ dir, keys });
    expect(listFiles(dir)).toEqual(ALL_FILES);
  });

  it('generates fresh keys when none are given', async () => {
    const dir = tmp();
    const now = new Date('2030-01-02T03:04:05Z');
    await initProject({ dir, now });
    const cert = new X509Certificate(read(dir, TRUST_KIT_FILES.certificate));
    expect(new Date(cert.validTo).toISOString()).toBe('2035-01-02T03:04:05.000Z');
    expect(read(dir, INIT_FILES.secrets)).toMatch(/^WXPAY_V2_API_KEY=[A-Za-z0-9]{32}$/m);
  });
});

describe('initProject inside a git work tree', () => {
  const git = (cwd: string, ...args: string[]): string =>
    execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });

  it('adds anchored keys/ and trust-kit/ entries to the repo .gitignore, once', async () => {
    const root = tmp();
    git(root, 'init', '-q');
    writeFileSync(join(root, '.gitignore'), 'node_modules/'); // no trailing newline
    const dir = join(root, 'services', 'shop');
    const result = await initProject({ dir, keys });

    const gitignore = readFileSync(join(root, '.gitignore'), 'utf8');
    expect(gitignore.startsWith('node_modules/\n')).toBe(true);
    expect(gitignore).toContain('/services/shop/keys/\n');
    expect(gitignore).toContain('/services/shop/trust-kit/\n');
    expect(result.files).toContain(join(root, '.gitignore'));
    expect(result.summary).toContain('.gitignore');
    expect(git(root, 'status', '--porcelain', '--untracked-files=all')).not.toMatch(/keys\/|trust-kit\//);
    expect(git(root, 'check-ignore', 'services/shop/keys/secrets.env').trim()).toBe('services/shop/keys/secrets.env');

    await initProject({ dir, keys: otherKeys, force: true });
    expect(readFileSync(join(root, '.gitignore'), 'utf8')).toBe(gitignore);
  });

  it('anchors entries at the repo root so other keys/ folders stay tracked', async () => {
    const root = tmp();
    git(root, 'init', '-q');
    await initProject({ dir: root, keys });
    expect(readFileSync(join(root, '.gitignore'), 'utf8')).toMatch(/^\/keys\/$/m);
    mkdirSync(join(root, 'src', 'keys'), { recursive: true });
    writeFileSync(join(root, 'src', 'keys', 'code.ts'), 'export {};\n');
    expect(git(root, 'status', '--porcelain', '--untracked-files=all')).toContain('src/keys/code.ts');
  });

  // The temp folder itself may sit in a git work tree (TMPDIR inside a repo): nothing to prove there.
  const tempInRepo = findGitRoot(tmpdir()) ? `the temporary folder ${tmpdir()} is inside a git work tree` : false;
  it.skipIf(tempInRepo)('leaves .gitignore alone outside a git work tree', async () => {
    const dir = tmp();
    const result = await initProject({ dir, keys });
    expect(existsSync(join(dir, '.gitignore'))).toBe(false);
    expect(result.files).toHaveLength(ALL_FILES.length);
  });
});
