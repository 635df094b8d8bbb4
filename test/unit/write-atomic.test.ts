import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFilesAtomic } from '../../src/output/write-atomic.js';

describe('writeFilesAtomic', () => {
  it('takes over an empty lock left by a writer killed before it wrote its pid, and leaves no lock or temp', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    const lock = join(dir, '.wxpay-notify.lock');
    writeFileSync(lock, '');
    const past = new Date(Date.now() - 5_000);
    utimesSync(lock, past, past);
    writeFilesAtomic([{ path: join(dir, 'a.json'), content: 'A' }]);
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('A');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('writes every file with its mode', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    writeFilesAtomic([
      { path: join(dir, 'a.json'), content: 'A' },
      { path: join(dir, 'sub/b.json'), content: 'B', mode: 0o600 },
    ]);
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('A');
    expect(statSync(join(dir, 'sub/b.json')).mode & 0o777).toBe(0o600);
  });

  it('a failure part-way leaves the previous files as they were, and no temp files behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    writeFileSync(join(dir, 'collection.json'), 'OLD COLLECTION');
    mkdirSync(join(dir, 'environment.json')); // a directory where a file must go: the rename fails
    expect(() =>
      writeFilesAtomic([
        { path: join(dir, 'collection.json'), content: 'NEW COLLECTION' },
        { path: join(dir, 'environment.json'), content: 'NEW ENV' },
      ]),
    ).toThrow();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // The collection was already renamed when the environment failed: it is put back.
    expect(readFileSync(join(dir, 'collection.json'), 'utf8')).toBe('OLD COLLECTION');
    expect(readdirSync(dir).sort()).toEqual(['collection.json', 'environment.json']);
  });

  it('a failure while staging (unwritable folder) changes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    writeFileSync(join(dir, 'collection.json'), 'OLD');
    writeFileSync(join(dir, 'blocker'), 'a file where a folder must go');
    expect(() =>
      writeFilesAtomic([
        { path: join(dir, 'collection.json'), content: 'NEW' },
        { path: join(dir, 'blocker/environment.json'), content: 'NEW ENV' },
      ]),
    ).toThrow();
    expect(readFileSync(join(dir, 'collection.json'), 'utf8')).toBe('OLD');
    expect(readdirSync(dir).sort()).toEqual(['blocker', 'collection.json']);
  });
});
