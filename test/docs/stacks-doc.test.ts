import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FINGERPRINTS } from '../../src/judge/fingerprints.js';
import { renderStacksDoc } from '../../src/judge/render-stacks-doc.js';
import { STACK_EXAMPLES } from '../fixtures/stacks/answers.js';

describe('docs/stacks.md', () => {
  const doc = readFileSync(new URL('../../docs/stacks.md', import.meta.url), 'utf8');

  it('is generated from the fingerprint table (run `npm run docs` after editing src/judge/fingerprints.ts)', () => {
    expect(doc).toBe(renderStacksDoc());
  });

  it('lists every stack with its fix, and says which ones the tests run for real', () => {
    for (const f of FINGERPRINTS) {
      expect(doc, f.id).toContain(f.stack.replace(/\|/g, '\\|'));
      expect(doc, f.id).toContain(f.fix.replace(/\s+/g, ' ').replace(/\|/g, '\\|'));
    }
    // Every answer recorded from a real framework belongs to an entry that says so.
    for (const e of STACK_EXAMPLES.filter((x) => x.from === 'recorded')) {
      expect(FINGERPRINTS.find((f) => f.id === e.id)?.recordedFrom, e.what).toBeTruthy();
    }
    expect(doc).toContain('run here: Django 3.2 (Debian python3-django)');
  });
});
