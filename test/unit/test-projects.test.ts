import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MOCKING } from '../../vitest.config.js';

/**
 * Integration files share a worker's module cache (isolate: false). A module mock in one of them
 * would either not apply (the real module is already cached) or leak into the next file, so every
 * file that mocks a module must be listed in MOCKING, which runs isolated.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function testFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('vitest projects', () => {
  it('every test file that replaces a module (vi.mock, vi.doMock) runs isolated', () => {
    const mocking = [...testFiles('test'), ...testFiles('examples')]
      .filter((file) => /\bvi\.(mock|doMock)\(/.test(readFileSync(join(ROOT, file), 'utf8')))
      .map((file) => relative(ROOT, join(ROOT, file)))
      .sort();
    expect(mocking).toEqual([...MOCKING].sort());
  });
});
