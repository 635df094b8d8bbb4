import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { relativeLinks } from '../docs/markdown-links.js';

/**
 * What a user gets: `npm pack` (of the dist `npm test` just built), its contents, and an install of
 * the tarball into a fresh project, offline, whose node_modules holds only our *runtime* dependency
 * tree: anything else the package needed at install time (a devDependency, a build) would fail it.
 */
const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
};
const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      npm_config_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    },
  });

/**
 * What `tsc -p <project>` (skipLibCheck: false) reports about the consumer's files and every
 * declaration file of ours, leaving out the declaration files of other packages (@types/node,
 * express, vitest: about 9 s of CPU that prove nothing about this package). skipLibCheck: true
 * would not do: it skips our .d.ts too, and a broken one (an import of a devDependency, a type
 * error) would pass. Returns the files checked (relative to the project) and the errors as tsc
 * prints them.
 */
function typeCheck(project: string): { checked: string[]; errors: string } {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(project, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  const program = ts.createProgram({
    rootNames: parsed.fileNames,
    options: parsed.options,
    configFileParsingDiagnostics: parsed.errors,
  });
  const ours = program
    .getSourceFiles()
    .filter((f) => !f.fileName.includes('/node_modules/') || f.fileName.includes('/node_modules/wxpay-notify/'));
  const diagnostics = [
    ...program.getConfigFileParsingDiagnostics(),
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSyntacticDiagnostics(),
    ...ours.flatMap((f) => program.getSemanticDiagnostics(f)),
  ];
  const errors = ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => project,
    getNewLine: () => '\n',
  });
  return { checked: ours.map((f) => relative(project, f.fileName)), errors };
}

/** node_modules/<name> of every package in our runtime dependency tree (npm ls --omit=dev). */
function runtimePackages(): string[] {
  const paths = npm(['ls', '--omit=dev', '--all', '--parseable'], PACKAGE_ROOT).trim().split('\n');
  return paths.map((p) => relative(PACKAGE_ROOT, p)).filter((p) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(p));
}

describe('the npm package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-pack-'));
  const project = join(dir, 'host-project');
  let files: string[] = [];
  let tarball = '';

  beforeAll(() => {
    // --ignore-scripts: prepack would rebuild dist/ under the tests that are running from it.
    const [packed] = JSON.parse(
      npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], PACKAGE_ROOT),
    ) as { filename: string; files: { path: string }[] }[];
    files = packed!.files.map((f) => f.path);
    tarball = join(dir, packed!.filename);

    mkdirSync(join(project, 'node_modules'), { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'host-project', version: '1.0.0', private: true, type: 'module' }),
    );
    for (const pkg of runtimePackages())
      cpSync(join(PACKAGE_ROOT, pkg), join(project, pkg), { recursive: true, verbatimSymlinks: true });
    npm(['install', '--save-dev', tarball], project);
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }), 120_000); // a copy of the runtime dependency tree

  it('ships the built code, its types, the reference receiver source, templates and the sandbox scripts', () => {
    expect(tarball.endsWith(`wxpay-notify-${manifest.version}.tgz`)).toBe(true);
    for (const needed of [
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'docs/README.md',
      'docs/commands.md',
      'docs/config.md',
      'docs/library.md',
      manifest.bin['wxpay-notify']!,
      'src/config/schema.json',
      'templates/v3/transaction-success.json',
      'src/sandbox/lib/judge.js',
      'src/receiver/handle-v3.ts',
      'src/receiver/v3-steps.ts',
    ]) {
      expect(files, needed).toContain(needed);
    }
    const targets = Object.values(manifest.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
    for (const target of targets) expect(files, target).toContain(target.replace(/^\.\//, ''));
    expect(targets.some((t) => t.endsWith('.d.ts'))).toBe(true);
  });

  it('every relative link in the shipped README and docs names a shipped file, so links work from node_modules', () => {
    const shipped = new Set(files);
    const pages = files.filter((f) => f.endsWith('.md'));
    expect(pages.filter((f) => f.startsWith('docs/')).length).toBeGreaterThan(5);
    const links = pages.flatMap((page) => relativeLinks(join(project, 'node_modules', 'wxpay-notify'), page));
    expect(links.length).toBeGreaterThan(50);
    // A link to a folder (docs/) resolves when the package ships a file in it.
    const missing = links.filter((l) => !shipped.has(l.target) && !files.some((f) => f.startsWith(`${l.target}/`)));
    expect(missing.map((l) => `${l.from} → ${l.target}`)).toEqual([]);
  });

  it('does not ship the benchmarks, dev tooling, source maps, tests or examples', () => {
    const unwanted = files.filter((f) =>
      /^dist\/(bench|docs)\/|^dist-tools\/|^tools\/|\.map$|^test\/|^examples\/|^src\/(?!sandbox\/|receiver\/|load\/runtime\/|config\/schema\.json$)/.test(
        f,
      ),
    );
    expect(unwanted).toEqual([]);
  });

  it('installs without a build: no install-time scripts, and the runtime dependencies suffice', () => {
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/wxpay-notify/package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare'])
      expect(installed.scripts?.[hook], hook).toBeUndefined();
    expect(readdirSync(join(project, 'node_modules/wxpay-notify/dist/library'))).toContain('index.js');
  });

  it('every entry point imports, with what the README says it exports', () => {
    const probe = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      const main = await import('wxpay-notify');
      const receiver = await import('wxpay-notify/receiver');
      const runner = await import('wxpay-notify/runner');
      const schema = (await import('wxpay-notify/schema.json', { with: { type: 'json' } })).default;
      const keys = main.generateTestKeys();
      console.log(JSON.stringify({
        main: ['buildV3Notification', 'buildV2PayNotification', 'buildV2RefundNotification', 'buildCase', 'listCases', 'judge', 'generateTestKeys', 'loadConfig'].filter((n) => typeof main[n] !== 'function'),
        receiver: ['createNotifyHandler', 'startReceiver', 'receiverOptionsFromConfig'].filter((n) => typeof receiver[n] !== 'function'),
        runner: typeof runner.runSuite,
        schema: typeof schema.properties,
        cases: main.listCases().length,
        v3: main.buildV3Notification({ resource: { a: 1 }, apiV3Key: keys.apiV3Key, privateKey: keys.publicKey.privateKeyPem, serial: keys.publicKey.keyId }).headers['Wechatpay-Signature-Type'],
      }));
    `,
      ],
      { cwd: project, encoding: 'utf8' },
    );
    expect(probe.stderr).toBe('');
    const seen = JSON.parse(probe.stdout);
    expect(seen).toMatchObject({
      main: [],
      receiver: [],
      runner: 'function',
      schema: 'object',
      v3: 'WECHATPAY2-SHA256-RSA2048',
    });
    expect(seen.cases).toBeGreaterThan(0);
  });

  it('its types resolve through the exports map, and the README examples type-check against them', () => {
    // The examples need their own dev dependencies (express, supertest, vitest) beside the package.
    for (const dev of ['express', 'supertest', 'vitest', '@types/express', '@types/supertest', '@types/node']) {
      mkdirSync(dirname(join(project, 'node_modules', dev)), { recursive: true });
      symlinkSync(join(PACKAGE_ROOT, 'node_modules', dev), join(project, 'node_modules', dev));
    }
    for (const f of readdirSync(join(PACKAGE_ROOT, 'examples')).filter((name) => name.endsWith('.ts')))
      cpSync(join(PACKAGE_ROOT, 'examples', f), join(project, f));
    writeFileSync(
      join(project, 'entry-points.ts'),
      [
        "import { buildCase, judge, type BuiltCase, type NotifyConfig, type Verdict } from 'wxpay-notify';",
        "import { createNotifyHandler, type NotifyHandler } from 'wxpay-notify/receiver';",
        "import { runSuite, type SuiteResults } from 'wxpay-notify/runner';",
        "import schema from 'wxpay-notify/schema.json' with { type: 'json' };",
        'export const handler: NotifyHandler = createNotifyHandler({});',
        'export const run: (c: NotifyConfig) => Promise<SuiteResults> = (c) => runSuite(c, { only: ["v3.*"] });',
        'export const first = (b: BuiltCase, v: Verdict): boolean => v.pass && b.deliveries.length > 0 && typeof buildCase === "function" && typeof judge === "function";',
        'export const title: unknown = schema.title;',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
          skipLibCheck: false,
          resolveJsonModule: true,
        },
        include: ['*.ts'],
      }),
    );
    const targets = Object.values(manifest.exports)
      .flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)))
      .map((t) => join('node_modules/wxpay-notify', t));
    const { checked, errors } = typeCheck(project);
    // Every declaration file of ours that the entry points and examples reach is checked, not skipped.
    expect(checked).toEqual(expect.arrayContaining(targets.filter((t) => t.endsWith('.d.ts'))));
    expect(errors).toBe('');
  }, 180_000);

  it('npx wxpay-notify prints our version, and init prints next steps that work where it is installed', () => {
    // The bin link npm made, started through its shebang as npx starts it (an `npm exec` costs ~1 s
    // of CPU; the one below shows that npx finds the bin from inside the init folder).
    const bin = (args: string[]): string =>
      execFileSync(join(project, 'node_modules', '.bin', 'wxpay-notify'), args, { cwd: project, encoding: 'utf8' });
    expect(bin(['--version']).trim()).toBe(manifest.version);
    const init = bin(['init', '--dir', 'wxpay-test']);
    // The config points editors at the installed schema, relative to itself.
    expect(readFileSync(join(project, 'wxpay-test', 'wxpay-notify.jsonc'), 'utf8')).toContain(
      '"$schema": "../node_modules/wxpay-notify/src/config/schema.json",',
    );
    const next = init.split('\n').filter((l) => /^\s+npx wxpay-notify /.test(l));
    expect(next.map((l) => l.trim().split(' ')[2])).toEqual(['doctor', 'run', 'generate']);
    // The README runs them from inside the init folder: npx still finds the project's bin.
    const lint = npm(
      ['exec', '--', 'wxpay-notify', 'lint-url', 'https://shop.example.com/wxpay/notify', '--format', 'json'],
      join(project, 'wxpay-test'),
    );
    expect(JSON.parse(lint).command).toBe('lint-url');
  }, 120_000);
});
