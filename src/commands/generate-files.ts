import { closeSync, constants, lstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/types.js';
import { selectCases, type CaseFilter } from '../cases/select-cases.js';
import { buildCollection } from '../collection/build-collection.js';
import { buildEnvironment } from '../collection/build-environment.js';
import { brunoPaths, buildBrunoCollection, buildBrunoEnvironment } from '../collection/build-bruno.js';
import type { OutputFile } from '../output/write-atomic.js';
import { UserError } from '../shared/errors.js';
import { generateArtilleryFiles } from '../load/artillery/render-artillery.js';

/** `postman`: collection + environment JSON; `bruno`: a Bruno collection folder + its environment. */
import type { OutputFormat } from './output-formats.js';
export { OUTPUT_FORMATS, type OutputFormat } from './output-formats.js';

export interface GenerateOptions extends CaseFilter {
  outDir: string;
  withSecrets: boolean;
  format?: OutputFormat;
  /** `--mix` text (load's syntax): the load scenario's kinds and weights; only with format artillery. */
  mix?: string;
}

/** Stable text: two-space JSON with a final newline, so regenerations diff line by line. */
export function serialize(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

export function outputPaths(config: ResolvedConfig, outDir: string): { collection: string; environment: string } {
  return {
    collection: join(outDir, `${config.name}.postman_collection.json`),
    environment: join(outDir, `${config.name}.postman_environment.json`),
  };
}

/** The files `generate` writes for a config (pure apart from reading templates). */
export function generateFiles(config: ResolvedConfig, options: GenerateOptions): OutputFile[] {
  if (options.format === 'artillery') {
    // A load scenario sends the genuine notifications of the load mix, not the catalogue's cases.
    if (options.only?.length || options.minSeverity)
      throw new UserError(
        '--only and --min-severity choose cases of the collection; --format artillery writes a load scenario of genuine notifications: leave them out',
      );
    return generateArtilleryFiles(config, options.outDir, options.withSecrets, options.mix);
  }
  if (options.mix !== undefined)
    throw new UserError(
      '--mix chooses the notifications of a load scenario: use it with --format artillery (or with `wxpay-notify load`)',
    );
  const cases = selectCases(config, options);
  if (options.format === 'bruno') {
    const paths = brunoPaths(config.name, options.outDir);
    const environment = buildEnvironment(config, options.withSecrets) as Parameters<typeof buildBrunoEnvironment>[0];
    return [
      ...buildBrunoCollection(buildCollection(config, cases), paths.collectionDir),
      { path: paths.environment, content: serialize(buildBrunoEnvironment(environment)), mode: 0o600 },
    ];
  }
  const paths = outputPaths(config, options.outDir);
  return [
    { path: paths.collection, content: serialize(buildCollection(config, cases)) },
    // The environment holds the test secrets: owner-only, like a key file.
    { path: paths.environment, content: serialize(buildEnvironment(config, options.withSecrets)), mode: 0o600 },
  ];
}

/**
 * Files whose content on disk differs from what would be generated (missing counts as stale). Only a
 * regular file of the right size is read, never through a link: a name planted as a link to
 * /dev/zero or a FIFO is stale, not a read without end.
 */
export function staleFiles(files: readonly OutputFile[]): string[] {
  return files
    .filter((f) => {
      const info = lstatSync(f.path, { throwIfNoEntry: false });
      if (!info?.isFile() || info.size !== Buffer.byteLength(f.content)) return true;
      let fd: number | undefined;
      try {
        fd = openSync(f.path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
        return readFileSync(fd, 'utf8') !== f.content;
      } catch {
        return true;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    })
    .map((f) => f.path);
}

/**
 * Request files in a generated Bruno collection folder that the config no longer generates (a case
 * left out or renamed): Bruno would still run them.
 */
export function strayFiles(
  config: ResolvedConfig,
  options: Pick<GenerateOptions, 'outDir' | 'format'>,
  files: readonly OutputFile[],
): string[] {
  if (options.format !== 'bruno') return [];
  const generated = new Set(files.map((f) => f.path));
  const walk = (dir: string): string[] => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
    return entries.flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.bru') ? [join(dir, e.name)] : [],
    );
  };
  return walk(brunoPaths(config.name, options.outDir).collectionDir)
    .filter((path) => !generated.has(path))
    .sort();
}
