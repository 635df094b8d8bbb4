import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../../src/cli.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { loadConfig } from '../../src/config/load-config.js';
import { runSuite } from '../../src/commands/run.js';
import { initProject } from '../../src/keys/init-project.js';
import { planInitFiles } from '../../src/keys/init-files.js';
import { generateFiles } from '../../src/commands/generate-files.js';
import { FILE_REPORTERS } from '../../src/report/reporters/index.js';
import { KNOWN_OUTPUT, writeFilesAtomic } from '../../src/output/write-atomic.js';
import { UserError } from '../../src/shared/errors.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { testKeys } from '../support/suite-fixture.js';
import { expectInert, expectNoSecret, expectOneLine, HOSTILE_TEXT, playground, snapshot } from './support.js';

/**
 * Issue 18, class 1 and 2: a folder we write into is not trusted. A planted commit journal, links
 * on the way or at a target, odd things at the lock's path: each is refused with one line (exit 2)
 * and nothing outside the target (the sentinel tree) or inside it changes. Every case is run
 * in-process through the CLI's own entry (`cli()`), which prints errors exactly as the binary does.
 */

const API_KEY = 'k7Hq2Lm9Xw4Rt8Yp3Zs6Vb1Nc5Df0Gj!';

function writeConfig(root: string): string {
  const file = join(root, 'acme.wxpay-notify.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'acme',
      appid: 'wx2421b1c4370ec43b',
      mchid: '1900000109',
      v2: {
        notifyUrl: 'http://127.0.0.1:9/wxpay/v2/notify',
        refundNotifyUrl: 'http://127.0.0.1:9/wxpay/v2/refund',
        apiKey: API_KEY,
      },
    }),
  );
  return file;
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO();
  const code = await cli(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const journal = (files: unknown): string => JSON.stringify({ version: 2, files });
const TEMP = '.acme.postman_collection.json.new.0123abcd.tmp';

/** Planted journals: each names something wxpay-notify never writes in that folder, or is not a journal. */
const PLANTED: { name: string; plant: (p: ReturnType<typeof playground>) => void }[] = [
  {
    // The attack, in the format the old writer used: move the user's key into the reports.
    name: 'the old format: absolute paths moving a secret into the folder',
    plant: ({ target, sentinel }) =>
      writeFileSync(
        join(target, '.wxpay-notify.commit'),
        JSON.stringify([{ temp: join(sentinel, 'id_rsa'), path: join(target, 'acme.report.html') }]),
      ),
  },
  {
    name: 'an absolute target path (overwrite any file the user can write)',
    plant: ({ target, sentinel }) =>
      writeFileSync(join(target, '.wxpay-notify.commit'), journal([{ temp: TEMP, path: join(sentinel, 'notes.txt') }])),
  },
  {
    name: 'a target that climbs out with ..',
    plant: ({ target }) =>
      writeFileSync(
        join(target, '.wxpay-notify.commit'),
        journal([{ temp: '../sentinel/.notes.txt.new.0123abcd.tmp', path: '../sentinel/notes.txt' }]),
      ),
  },
  {
    name: 'a temp that is a file of the user elsewhere',
    plant: ({ target }) =>
      writeFileSync(
        join(target, '.wxpay-notify.commit'),
        journal([{ temp: '../sentinel/id_rsa', path: 'acme.report.html' }]),
      ),
  },
  {
    name: 'a name wxpay-notify never writes',
    plant: ({ target }) => {
      writeFileSync(join(target, '.notes.txt.new.0123abcd.tmp'), 'planted');
      writeFileSync(
        join(target, '.wxpay-notify.commit'),
        journal([{ temp: '.notes.txt.new.0123abcd.tmp', path: 'notes.txt' }]),
      );
    },
  },
  {
    name: 'a link on the way (a Bruno folder that is a link out)',
    plant: ({ target, sentinel }) => {
      symlinkSync(join(sentinel, 'deep'), join(target, 'acme.bruno'));
      writeFileSync(
        join(target, '.wxpay-notify.commit'),
        journal([{ temp: 'acme.bruno/.request.bru.new.0123abcd.tmp', path: 'acme.bruno/request.bru' }]),
      );
    },
  },
  {
    name: 'a temp that is a link to a secret',
    plant: ({ target, sentinel }) => {
      symlinkSync(join(sentinel, 'id_rsa'), join(target, TEMP));
      writeFileSync(
        join(target, '.wxpay-notify.commit'),
        journal([{ temp: TEMP, path: 'acme.postman_collection.json' }]),
      );
    },
  },
  {
    name: 'a target that is a link (the rename would replace it; a backup would read through it)',
    plant: ({ target, sentinel }) => {
      writeFileSync(join(target, '.acme.report.html.new.0123abcd.tmp'), 'planted');
      symlinkSync(join(sentinel, 'notes.txt'), join(target, 'acme.report.html'));
      writeFileSync(
        join(target, '.wxpay-notify.commit'),
        journal([{ temp: '.acme.report.html.new.0123abcd.tmp', path: 'acme.report.html' }]),
      );
    },
  },
  {
    name: 'an escape sequence in the name (the error line stays inert)',
    plant: ({ target }) =>
      writeFileSync(
        join(target, '.wxpay-notify.commit'),
        journal([{ temp: TEMP, path: `x${HOSTILE_TEXT.clipboard}${HOSTILE_TEXT.bidiOverride}` }]),
      ),
  },
  {
    name: 'a journal that is a link',
    plant: ({ target, sentinel }) => symlinkSync(join(sentinel, 'notes.txt'), join(target, '.wxpay-notify.commit')),
  },
  {
    name: 'a journal that is a link to /dev/zero',
    plant: ({ target }) => symlinkSync('/dev/zero', join(target, '.wxpay-notify.commit')),
  },
  { name: 'a journal that is a folder', plant: ({ target }) => mkdirSync(join(target, '.wxpay-notify.commit')) },
  {
    name: 'a journal that is a named pipe',
    plant: ({ target }) => execFileSync('mkfifo', [join(target, '.wxpay-notify.commit')]),
  },
  {
    name: 'a journal of 300 MB (sparse)',
    plant: ({ target }) => {
      writeFileSync(join(target, '.wxpay-notify.commit'), '');
      truncateSync(join(target, '.wxpay-notify.commit'), 300 * 1024 * 1024);
    },
  },
  {
    name: 'a journal that is not JSON',
    plant: ({ target }) => writeFileSync(join(target, '.wxpay-notify.commit'), '\u001b]0;owned\u0007'),
  },
];

describe('a planted commit journal is refused with one line, and nothing moves', () => {
  for (const { name, plant } of PLANTED) {
    it(`generate, generate --check: ${name}`, async () => {
      const p = playground();
      const config = writeConfig(p.root);
      plant(p);
      const before = { sentinel: snapshot(p.sentinel), target: snapshot(p.target) };
      const written = await run(['generate', '-c', config, '-o', p.target]);
      expect(written.code).toBe(2);
      expectOneLine(
        written.stderr,
        /^wxpay-notify: .*\.wxpay-notify\.commit is not a commit journal wxpay-notify wrote \(.+\); nothing was written or moved: look at it, delete it, and run again$/m,
      );
      expectInert(written.stderr, 'error line');
      expect(written.stdout).toBe('');
      const checked = await run(['generate', '-c', config, '-o', p.target, '--check']);
      expect(checked.code).toBe(2);
      expect(checked.stderr).not.toMatch(/stale/);
      expectOneLine(checked.stderr, /is not a commit journal wxpay-notify wrote/);
      expect(snapshot(p.sentinel)).toEqual(before.sentinel);
      expect(snapshot(p.target)).toEqual(before.target);
      expectNoSecret(written.stderr + checked.stderr, [API_KEY], 'stderr');
    }, 30_000);
  }

  it('init --dir: the journal is refused, no file and no folder is left behind', async () => {
    const p = playground();
    PLANTED[0]!.plant(p);
    const before = { sentinel: snapshot(p.sentinel), target: snapshot(p.target) };
    const result = await run(['init', '--dir', p.target]);
    expect(result.code).toBe(2);
    expectOneLine(result.stderr, /\.wxpay-notify\.commit is not a commit journal wxpay-notify wrote/);
    expect(snapshot(p.sentinel)).toEqual(before.sentinel);
    expect(snapshot(p.target)).toEqual(before.target);
  }, 30_000);

  it('run --reporter-dir: the reports are not written, the journal is refused', async () => {
    const p = playground();
    PLANTED[0]!.plant(p);
    const before = { sentinel: snapshot(p.sentinel), target: snapshot(p.target) };
    const config = await loadConfig(writeConfig(p.root));
    const closed = await closedPort();
    const io = memoryIO();
    const aimed = {
      ...config,
      v2: { ...config.v2!, notifyUrl: `http://127.0.0.1:${closed}/n`, refundNotifyUrl: `http://127.0.0.1:${closed}/r` },
    };
    const error = await runSuite(
      aimed,
      {
        format: 'table',
        reporters: ['junit', 'html'],
        reporterDir: p.target,
        insecure: false,
        only: ['v2.pay.success'],
      },
      io,
      'x',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(/\.wxpay-notify\.commit is not a commit journal wxpay-notify wrote/);
    expect(snapshot(p.sentinel)).toEqual(before.sentinel);
    expect(snapshot(p.target)).toEqual(before.target);
    expectNoSecret(io.stdout + io.stderr, [API_KEY], 'run output');
  }, 60_000);

  it('a journal of our own (a writer killed between renames) is still completed', () => {
    const p = playground();
    writeFileSync(join(p.target, TEMP), 'the staged collection\n');
    writeFileSync(
      join(p.target, '.wxpay-notify.commit'),
      journal([{ temp: TEMP, path: 'acme.postman_collection.json' }]),
    );
    writeFilesAtomic([{ path: join(p.target, 'acme.junit.xml'), content: '<testsuites/>\n' }]);
    expect(readFileSync(join(p.target, 'acme.postman_collection.json'), 'utf8')).toBe('the staged collection\n');
    expect(readdirSync(p.target).sort()).toEqual(['acme.junit.xml', 'acme.postman_collection.json']);
  });

  it('the spawned CLI prints the same one line and exits 2', () => {
    const p = playground();
    const config = writeConfig(p.root);
    PLANTED[0]!.plant(p);
    const before = snapshot(p.sentinel);
    const child = spawnSync(
      process.execPath,
      [join(PACKAGE_ROOT, 'dist/cli.js'), 'generate', '-c', config, '-o', p.target],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(child.status).toBe(2);
    expectOneLine(child.stderr, /^wxpay-notify: .*\.wxpay-notify\.commit is not a commit journal wxpay-notify wrote/);
    expect(snapshot(p.sentinel)).toEqual(before);
  }, 30_000);
});

describe('links and odd files at the paths we write are refused, never followed', () => {
  it('generate: an environment file that is a link to a secret is neither overwritten nor copied', async () => {
    const p = playground();
    const config = writeConfig(p.root);
    symlinkSync(join(p.sentinel, 'id_rsa'), join(p.target, 'acme.postman_environment.json'));
    const before = { sentinel: snapshot(p.sentinel), target: snapshot(p.target) };
    const result = await run(['generate', '-c', config, '-o', p.target]);
    expect(result.code).toBe(2);
    expectOneLine(
      result.stderr,
      /cannot write .*acme\.postman_environment\.json: .* is a symbolic link; wxpay-notify writes only real files in real folders under .*: remove the link, or choose another folder$/m,
    );
    expect(snapshot(p.sentinel)).toEqual(before.sentinel);
    expect(snapshot(p.target)).toEqual(before.target);
  }, 30_000);

  it('generate --format bruno: a collection folder that is a link out is refused; nothing there is written or removed as stray', async () => {
    const p = playground();
    const config = writeConfig(p.root);
    symlinkSync(join(p.sentinel, 'deep'), join(p.target, 'acme.bruno'));
    const before = { sentinel: snapshot(p.sentinel), target: snapshot(p.target) };
    const result = await run(['generate', '-c', config, '-o', p.target, '--format', 'bruno']);
    expect(result.code).toBe(2);
    expectOneLine(result.stderr, /acme\.bruno is a symbolic link/);
    expect(snapshot(p.sentinel)).toEqual(before.sentinel);
    expect(snapshot(p.target)).toEqual(before.target);
  }, 30_000);

  it("run's reports: a report file that is a link is refused, the file it points to untouched", () => {
    const p = playground();
    symlinkSync(join(p.sentinel, 'notes.txt'), join(p.target, 'acme.junit.xml'));
    const before = { sentinel: snapshot(p.sentinel), target: snapshot(p.target) };
    expect(() => writeFilesAtomic([{ path: join(p.target, 'acme.junit.xml'), content: '<testsuites/>' }])).toThrow(
      /acme\.junit\.xml is a symbolic link/,
    );
    expect(snapshot(p.sentinel)).toEqual(before.sentinel);
    expect(snapshot(p.target)).toEqual(before.target);
  });

  it('init --dir --force: keys/ as a link out is in the way, also with --force', async () => {
    const p = playground();
    symlinkSync(p.sentinel, join(p.target, 'keys'));
    const before = { sentinel: snapshot(p.sentinel), target: snapshot(p.target) };
    const error = await initProject({ dir: p.target, keys: testKeys(), force: true }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /cannot write into .*: keys is in the way \(not a regular file\); move it and run init again/,
    );
    expect(snapshot(p.sentinel)).toEqual(before.sentinel);
    expect(snapshot(p.target)).toEqual(before.target);
  });

  it('init: a .gitignore that is a link to /dev/zero is left alone (no read without end), and said so', async () => {
    const p = playground();
    mkdirSync(join(p.target, '.git'));
    symlinkSync('/dev/zero', join(p.target, '.gitignore'));
    const result = await initProject({ dir: join(p.target, 'wxpay'), keys: testKeys() });
    expect(result.summary).toMatch(/Could not update \.gitignore \(.*not a regular file \(a link\?\); not changed\)/);
    expect(snapshot(p.target)['.gitignore']).toBe('link -> /dev/zero');
  });

  it('generate --check: a target that is a link to /dev/zero is stale, read no further', async () => {
    const p = playground();
    const config = writeConfig(p.root);
    expect((await run(['generate', '-c', config, '-o', p.target, '--no-secrets'])).code).toBe(0);
    const collection = join(p.target, 'acme.postman_collection.json');
    rmSync(collection);
    symlinkSync('/dev/zero', collection);
    const result = await run(['generate', '-c', config, '-o', p.target, '--no-secrets', '--check']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^stale: .*acme\.postman_collection\.json differs/m);
  }, 30_000);

  it('a folder planted under a temp file name is left alone; the write goes on', async () => {
    const p = playground();
    const config = writeConfig(p.root);
    mkdirSync(join(p.target, TEMP));
    expect((await run(['generate', '-c', config, '-o', p.target])).code).toBe(0);
    expect(existsSync(join(p.target, TEMP))).toBe(true);
  }, 30_000);
});

describe('a lock it cannot read ends the wait at once with exit 2 naming it (it used to spin forever)', () => {
  const LOCKS: { name: string; plant: (lock: string) => void; why: RegExp }[] = [
    { name: 'a folder', plant: (lock) => mkdirSync(lock), why: /it is a folder/ },
    {
      name: 'a dangling link',
      plant: (lock) => symlinkSync('/nonexistent/wxpay-lock', lock),
      why: /it is a symbolic link/,
    },
    { name: 'a link to /dev/zero', plant: (lock) => symlinkSync('/dev/zero', lock), why: /it is a symbolic link/ },
    { name: 'a named pipe', plant: (lock) => execFileSync('mkfifo', [lock]), why: /it is a named pipe/ },
  ];
  for (const { name, plant, why } of LOCKS) {
    // The bound is the tool's own lock deadline (15 s) with margin; the refusal itself is immediate.
    it(`the lock is ${name}`, async () => {
      const p = playground();
      const config = writeConfig(p.root);
      const lock = join(p.target, '.wxpay-notify.lock');
      plant(lock);
      const before = { sentinel: snapshot(p.sentinel), target: snapshot(p.target) };
      const result = await run(['generate', '-c', config, '-o', p.target]);
      expect(result.code).toBe(2);
      expectOneLine(
        result.stderr,
        new RegExp(
          `^wxpay-notify: ${lock.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not a lock file wxpay-notify wrote \\(`,
          'm',
        ),
      );
      expect(result.stderr).toMatch(why);
      expect(snapshot(p.sentinel)).toEqual(before.sentinel);
      expect(snapshot(p.target)).toEqual(before.target);
    }, 30_000);
  }
});

describe('the journal accepts exactly what the writers write', () => {
  it('every file of generate (Postman, Bruno, Artillery), run, load, init and .gitignore is a known name', () => {
    const keys = testKeys();
    const config = {
      name: 'acme',
      appid: 'wx2421b1c4370ec43b',
      mchid: '1900000109',
      v2: {
        notifyUrl: 'http://127.0.0.1:9/a',
        refundNotifyUrl: 'http://127.0.0.1:9/b',
        apiKey: API_KEY,
        signType: 'MD5' as const,
      },
      order: {
        outTradeNo: 'T20260101000001',
        total: 100,
        openid: 'o1',
        transactionId: '42',
        outRefundNo: 'R20260101000001',
        refundId: '50',
        refund: 100,
      },
      configDir: '/x',
    };
    const out = '/out';
    const names = [
      ...generateFiles(config, { outDir: out, withSecrets: false }).map((f) => relative(out, f.path)),
      ...generateFiles(config, { outDir: out, withSecrets: false, format: 'bruno' }).map((f) => relative(out, f.path)),
      ...generateFiles(config, { outDir: out, withSecrets: false, format: 'artillery' }).map((f) =>
        relative(out, f.path),
      ),
      ...Object.values(FILE_REPORTERS).map((r) => `acme.${r.file}`),
      // load's reports (src/commands/load.ts): <name>.load.<reporter>
      'acme.load.json',
      'acme.load.html',
      ...Object.keys(planInitFiles(keys, 'both')),
      '.gitignore',
    ];
    expect(names.length).toBeGreaterThan(10);
    for (const name of names)
      expect(
        KNOWN_OUTPUT.some((form) => form.test(name)),
        name,
      ).toBe(true);
    for (const name of ['notes.txt', 'id_rsa', '../acme.report.html', 'sub/acme.junit.xml', '.bashrc', 'keys/id_rsa'])
      expect(
        KNOWN_OUTPUT.some((form) => form.test(name)),
        name,
      ).toBe(false);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
