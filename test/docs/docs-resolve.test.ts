import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { brokenLink, headingAnchors, relativeLinks } from './markdown-links.js';

/** The README is the front door; the manual is docs/, and every link between them resolves. */
const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');
const pages = readdirSync(join(PACKAGE_ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);
const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { files: string[] };

describe('the README', () => {
  it('is a front door: at most 250 lines', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
  });

  it('gives the two set-up commands exactly: the demo and the whole test suite', () => {
    expect(readme).toContain('\nnpm install && npm start    # the demo');
    expect(readme).toContain('\nnpm test                    # every test passes');
  });

  it('links every page of the manual, through docs/README.md', () => {
    const fromReadme = new Set(relativeLinks(PACKAGE_ROOT, 'README.md').map((l) => l.target));
    expect(fromReadme).toContain('docs/README.md');
    const fromIndex = new Set(relativeLinks(PACKAGE_ROOT, 'docs/README.md').map((l) => l.target));
    expect(pages.filter((p) => p !== 'docs/README.md' && !fromIndex.has(p))).toEqual([]);
  });
});

describe('docs resolve', () => {
  it.each(['README.md', 'CHANGELOG.md', 'templates/EVIDENCE.md', ...pages])(
    'every relative link in %s names a file (and heading) that exists',
    (file) => {
      const links = relativeLinks(PACKAGE_ROOT, file);
      expect(links.map((l) => brokenLink(PACKAGE_ROOT, l)).filter(Boolean)).toEqual([]);
    },
  );

  it('docs/ ships in the package, so the links work from node_modules too', () => {
    expect(manifest.files).toContain('docs');
  });

  it('the link checker catches a missing file and a missing heading (it can fail)', () => {
    expect(headingAnchors('# Commands and exit codes\n## `init` — config, test keys\n## Notes\n## Notes\n')).toEqual(
      new Set(['commands-and-exit-codes', 'init--config-test-keys', 'notes', 'notes-1']),
    );
    expect(brokenLink(PACKAGE_ROOT, { from: 'README.md', target: 'docs/nope.md' })).toBe(
      'README.md: docs/nope.md does not exist',
    );
    expect(brokenLink(PACKAGE_ROOT, { from: 'README.md', target: 'docs/config.md', anchor: 'nope' })).toBe(
      'README.md: docs/config.md has no heading #nope',
    );
    expect(
      brokenLink(PACKAGE_ROOT, { from: 'README.md', target: 'docs/config.md', anchor: 'editor-support-json-schema' }),
    ).toBeUndefined();
  });
});
