import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import type { ResolvedConfig } from '../../src/config/types.js';
import type { CaseSpec } from '../../src/cases/case-header.js';
import { brunoPaths } from '../../src/collection/build-bruno.js';
import { generateFiles } from '../../src/commands/generate-files.js';
import { writeFilesAtomic } from '../../src/output/write-atomic.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

const BRU = join(PACKAGE_ROOT, 'node_modules', '@usebruno', 'cli', 'bin', 'bru.js');

export type BrunoSandbox = 'safe' | 'developer';

export interface BrunoRequestResult {
  caseId: string;
  copy: number;
  /** Bruno's status: pass, fail, error (the request did not complete), skipped. */
  status: string;
  error: string | null;
  tests: { name: string; pass: boolean; error?: string }[];
}

export interface BrunoRun {
  exitCode: number;
  output: string;
  requests: BrunoRequestResult[];
  /** Case ids with a request that did not pass or a failed test. */
  failing: string[];
}

/**
 * What a Bruno user does: `generate --format bruno`, then `bru run -r --env-file …` inside the
 * collection folder, with the JSON reporter. Each request is traced back to its case through the
 * case header in its .bru file.
 */
export async function runWithBruno(
  config: ResolvedConfig,
  options: { sandbox: BrunoSandbox; only?: string[]; withSecrets?: boolean; paths?: string[] },
): Promise<BrunoRun> {
  const out = mkdtempSync(join(tmpdir(), 'wxpay-notify-bruno-'));
  try {
    const files = generateFiles(config, {
      outDir: out,
      withSecrets: options.withSecrets ?? true,
      only: options.only,
      format: 'bruno',
    });
    writeFilesAtomic(files);
    const paths = brunoPaths(config.name, out);
    const specs = new Map<string, CaseSpec>();
    for (const f of files) {
      const line = f.content.split('\n').find((l) => l.startsWith('  ~X-Wxpay-Notify-Case: '));
      if (line)
        specs.set(relative(paths.collectionDir, f.path), JSON.parse(line.slice(line.indexOf(': ') + 2)) as CaseSpec);
    }
    const report = join(out, 'report.json');
    const args = [
      BRU,
      'run',
      ...(options.paths ?? []),
      '-r',
      '--env-file',
      `../${basename(paths.environment)}`,
      '--sandbox',
      options.sandbox,
      '--reporter-json',
      report,
    ];
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        process.execPath,
        args,
        { cwd: paths.collectionDir, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          resolve({ code: err ? Number((err as { code?: unknown }).code ?? -1) : 0, output: stdout + stderr });
        },
      );
    });
    let iterations: any[];
    try {
      iterations = JSON.parse(readFileSync(report, 'utf8'));
    } catch {
      throw new Error(`bru wrote no report (exit ${code}):\n${output.slice(-4000)}`);
    }
    const requests: BrunoRequestResult[] = iterations
      .flatMap((it) => it.results)
      .map((r: any) => {
        const spec = specs.get(r.test.filename);
        if (!spec) throw new Error(`no case for ${r.test.filename}`);
        const tests = [
          ...(r.preRequestTestResults ?? []),
          ...(r.postResponseTestResults ?? []),
          ...(r.testResults ?? []),
        ].map((t: any) => ({
          name: String(t.description),
          pass: t.status === 'pass',
          ...(t.error ? { error: String(t.error) } : {}),
        }));
        return { caseId: spec.id, copy: spec.copy ?? 1, status: String(r.status), error: r.error ?? null, tests };
      });
    const failing = [
      ...new Set(requests.filter((r) => r.status !== 'pass' || r.tests.some((t) => !t.pass)).map((r) => r.caseId)),
    ].sort();
    return { exitCode: code, output, requests, failing };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
