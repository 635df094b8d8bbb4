import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * vitest globalSetup: the tests that start the CLI in a child process run `dist/cli.js`, so `dist/`
 * must be the build of the `src/` under test. Before any test file runs, every `src/**\/*.ts` must
 * have its `dist/**\/*.js` no older than itself (and no older than tsconfig.json); if one is missing
 * or stale, this runs the build (`tsc -p tsconfig.json`) once. A plain `npx vitest` then never
 * tests yesterday's code.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** The first source whose build output is missing or older than it, or undefined when dist/ is current. */
export function staleSource(root = ROOT): string | undefined {
  const configTime = statSync(join(root, 'tsconfig.json')).mtimeMs;
  for (const source of sources(join(root, 'src'))) {
    const built = join(root, 'dist', relative(join(root, 'src'), source).replace(/\.ts$/, '.js'));
    if (!existsSync(built)) return source;
    const builtTime = statSync(built).mtimeMs;
    if (builtTime < statSync(source).mtimeMs || builtTime < configTime) return source;
  }
  return undefined;
}

export default function buildDist(): void {
  const stale = staleSource();
  if (stale === undefined) return;
  process.stderr.write(
    `dist/ is older than ${relative(ROOT, stale)}: building (tsc -p tsconfig.json) before the tests\n`,
  );
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}
