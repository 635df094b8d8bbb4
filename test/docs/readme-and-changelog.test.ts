import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeExamplePaths, updateReadmeExamples } from '../../tools/docs/readme-examples.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
const library = readFileSync(join(PACKAGE_ROOT, 'docs', 'library.md'), 'utf8');
const changelog = readFileSync(join(PACKAGE_ROOT, 'CHANGELOG.md'), 'utf8');
const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
  version: string;
};

describe('the code examples of the README and docs/library.md', () => {
  it('show every file of examples/, exactly as it is (the files npm test runs)', () => {
    const files = readdirSync(join(PACKAGE_ROOT, 'examples'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `examples/${f}`);
    expect(readmeExamplePaths(readme)).toEqual(['examples/quick-start.test.ts']);
    expect([...readmeExamplePaths(readme), ...readmeExamplePaths(library)].sort()).toEqual(files.sort());
    expect(files.filter((f) => f.endsWith('.test.ts'))).toHaveLength(3);
    // `npm run docs` would change nothing: each block is its file, byte for byte.
    expect(updateReadmeExamples(readme, PACKAGE_ROOT)).toBe(readme);
    expect(updateReadmeExamples(library, PACKAGE_ROOT)).toBe(library);
  });

  it('installs the tarball npm pack makes of this version', () => {
    expect(readme).toContain(`npm install --save-dev /path/to/wxpay-notify-${manifest.version}.tgz`);
    expect(readme).toContain(`npx wxpay-notify --version                           # ${manifest.version}`);
  });
});

describe('CHANGELOG.md states the public contract', () => {
  it('is in Keep a Changelog form and names semantic versioning', () => {
    expect(changelog).toMatch(/^# Changelog\n/);
    expect(changelog).toContain('https://keepachangelog.com/');
    expect(changelog).toContain('https://semver.org/');
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
    expect(changelog).toContain(`## [${manifest.version}]`);
  });

  it('lists every export path and every function the main and runner entry points export', async () => {
    for (const path of Object.keys(manifest.exports).filter((p) => p !== './package.json')) {
      expect(changelog).toContain(`\`${path === '.' ? 'wxpay-notify' : `wxpay-notify/${path.slice(2)}`}\``);
    }
    const entries = [await import('../../src/library/index.js'), await import('../../src/library/runner.js')];
    for (const name of entries.flatMap((m) => Object.keys(m))) expect(changelog, name).toContain(`\`${name}\``);
    for (const name of ['createNotifyHandler', 'startReceiver', 'receiverOptionsFromConfig'])
      expect(changelog).toContain(`\`${name}\``);
  });

  it('lists every CLI command and flag', () => {
    const cli = join(PACKAGE_ROOT, 'dist', 'cli.js');
    const commands = ['init', 'generate', 'run', 'load', 'serve', 'doctor', 'lint-url', 'demo'];
    for (const command of commands) {
      expect(changelog).toContain(`\`${command}\``);
      const help = execFileSync(process.execPath, [cli, command, '--help'], { encoding: 'utf8' });
      for (const flag of new Set(help.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? [])) {
        // A boolean --x is written as its --no-x form where that is the one users type.
        expect(
          changelog.includes(`\`${flag}\``) ||
            changelog.includes(`\`--no-${flag.slice(2)}\``) ||
            changelog.includes(`/${flag}\``),
          `${command} ${flag}`,
        ).toBe(true);
      }
    }
  }, 60_000); // eight CLI start-ups
});
