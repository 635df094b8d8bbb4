import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, dirname, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';

/**
 * The house's floors, lowest first (docs/architecture.md, "Layers"). A module may import from its
 * own folder and from any lower floor; folders on one floor are neighbours that never import each
 * other (collection and runner: the command builds a collection and hands it to the runner).
 */
const FLOORS: readonly (readonly string[])[] = [
  ['paths.ts', 'protocol'],
  ['package-info.ts', 'sandbox'],
  ['shared'],
  ['config', 'output'],
  ['cases'],
  ['judge'],
  ['collection', 'runner'],
  ['report'],
  ['keys', 'receiver', 'doctor'],
  ['load'],
  ['commands'],
  ['library', 'cli.ts'],
];

const SRC = join(PACKAGE_ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `src/judge/answer.ts` → `judge`; `src/cli.ts` → `cli.ts`. */
const placeOf = (file: string): string => relative(SRC, file).split('/')[0]!;

function floorOf(place: string): number {
  const floor = FLOORS.findIndex((names) => names.includes(place));
  if (floor < 0) throw new Error(`src/${place} is on no floor: add it to FLOORS (and to docs/architecture.md)`);
  return floor;
}

/** Every relative module a file imports or re-exports, statically or with import(), types included. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(
      /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?\bfrom\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|(?:^|\n)\s*import\s*'([^']+)'/g,
    ),
  ].map((m) => m[1] ?? m[2] ?? m[3]!);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => normalize(join(dirname(file), s)));
}

const FILES = sourceFiles(SRC);
const EDGES = FILES.flatMap((file) =>
  importsOf(file).map((target) => ({ from: relative(SRC, file), to: relative(SRC, target) })),
);

describe('the layers of src/', () => {
  it('reads the imports it judges (a sample the rules depend on is found)', () => {
    expect(FILES.length).toBeGreaterThan(100);
    expect(EDGES).toContainEqual({ from: 'runner/suite-run.ts', to: 'judge/judge-run.js' });
    expect(EDGES).toContainEqual({ from: 'cli.ts', to: 'commands/run.js' });
  });

  it('every folder of src/ stands on a floor', () => {
    for (const file of FILES) expect(() => floorOf(placeOf(join(SRC, relative(SRC, file))))).not.toThrow();
  });

  it('no import runs upward or sideways: each goes to its own folder or a lower floor', () => {
    const wrong = EDGES.filter(({ from, to }) => {
      const [a, b] = [from.split('/')[0]!, to.split('/')[0]!.replace(/\.js$/, '.ts')];
      return a !== b && floorOf(a) <= floorOf(b);
    }).map(({ from, to }) => `src/${from} -> src/${to}`);
    expect(wrong).toEqual([]);
  });

  it('the runner builds no collection: nothing in src/runner/ imports src/collection/', () => {
    expect(EDGES.filter(({ from, to }) => from.startsWith('runner/') && to.startsWith('collection/'))).toEqual([]);
  });

  it('the shared floor imports only what lies below it', () => {
    const allowed = new Set(FLOORS.slice(0, floorOf('shared') + 1).flat());
    const up = EDGES.filter(
      ({ from, to }) => from.startsWith('shared/') && !allowed.has(to.split('/')[0]!.replace(/\.js$/, '.ts')),
    );
    expect(up).toEqual([]);
  });

  it('no two modules import each other, directly or round a loop (types included)', () => {
    const next = new Map<string, string[]>();
    for (const { from, to } of EDGES) next.set(from, [...(next.get(from) ?? []), to.replace(/\.js$/, '.ts')]);
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const target of next.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of next.keys()) visit(file, []);
    expect(circles).toEqual([]);
  });
});
