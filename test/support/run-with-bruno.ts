import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { ResolvedConfig } from '../../src/config/types.js';
import type { CaseSpec } from '../../src/cases/case-header.js';
import { brunoPaths } from '../../src/collection/build-bruno.js';
import { generateFiles } from '../../src/commands/generate-files.js';
import { writeFilesAtomic, type OutputFile } from '../../src/output/write-atomic.js';
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

/** One receiver's share of a shared Bruno run: its config (aimed at its own receiver) and its cases. */
export interface BrunoRunPart {
  name: string;
  config: ResolvedConfig;
  only?: string[];
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
  const runs = await runWithBrunoShared([{ name: 'run', config, only: options.only }], options);
  return runs.get('run')!;
}

const URL_VARIABLES = {
  v2_notify_url: (c: ResolvedConfig) => c.v2!.notifyUrl,
  v2_refund_notify_url: (c: ResolvedConfig) => c.v2!.refundNotifyUrl,
  v3_notify_url: (c: ResolvedConfig) => c.v3!.notifyUrl,
  v3_refund_notify_url: (c: ResolvedConfig) => c.v3!.refundNotifyUrl,
} as const;

/** The environment without its URL variables: what every part of a shared run must agree on. */
function environmentBesideUrls(content: string): string {
  const env = JSON.parse(content) as { variables: { name: string }[] };
  return JSON.stringify(env.variables.filter((v) => !(v.name in URL_VARIABLES)));
}

/**
 * ONE `bru run` for several receivers (issue 21: each `bru` start-up costs ~4 s of CPU, more than a
 * dozen requests), as test/support/shared-run.ts does for newman. The first part is generated and run
 * exactly as a user runs it (its requests read the URL variables of the environment). Every other
 * part's requests, generated from its own config as `generate --only` writes them, go into a folder
 * of their own in the same collection, with the URL variable of each request written out as that
 * part's URL: one collection script and one environment serve all, so the configs must differ in
 * their URLs alone (checked). Each part's requests are traced back to it, so a part sees only its own
 * answers; `exitCode` and `output` are the whole run's.
 */
export async function runWithBrunoShared(
  parts: readonly BrunoRunPart[],
  options: { sandbox: BrunoSandbox; withSecrets?: boolean; paths?: string[] },
): Promise<Map<string, BrunoRun>> {
  if (new Set(parts.map((p) => p.name)).size !== parts.length)
    throw new Error('shared Bruno run: two parts share a name');
  const out = mkdtempSync(join(tmpdir(), 'wxpay-notify-bruno-'));
  try {
    const generated = parts.map((part, i) => {
      const outDir = join(out, `part-${i}`);
      const files = generateFiles(part.config, {
        outDir,
        withSecrets: options.withSecrets ?? true,
        only: part.only,
        format: 'bruno',
      });
      return { part, files, paths: brunoPaths(part.config.name, outDir) };
    });
    const first = generated[0];
    if (!first) return new Map();
    const collectionDir = first.paths.collectionDir;
    const shared = new Map<string, string>();
    for (const f of first.files) shared.set(relative(first.paths.collectionDir, f.path), f.content);
    const environment = first.files.find((f) => f.path === first.paths.environment)!.content;
    const laidOut: OutputFile[] = [...first.files];
    /** Each request file (relative to the collection folder) → its part and its case. */
    const specs = new Map<string, { part: string; spec: CaseSpec }>();
    const readSpec = (part: string, path: string, content: string): void => {
      const line = content.split('\n').find((l) => l.startsWith('  ~X-Wxpay-Notify-Case: '));
      if (line) specs.set(path, { part, spec: JSON.parse(line.slice(line.indexOf(': ') + 2)) as CaseSpec });
    };
    for (const f of first.files) readSpec(first.part.name, relative(collectionDir, f.path), f.content);
    generated.slice(1).forEach(({ part, files, paths }, i) => {
      const folder = `part ${i + 1} ${part.name.replace(/[\\/:*?"<>|]/g, '-')}`;
      for (const f of files) {
        if (f.path === paths.environment) {
          if (environmentBesideUrls(f.content) !== environmentBesideUrls(environment))
            throw new Error(
              `shared Bruno run: ${part.name}'s environment differs from ${first.part.name}'s beyond its URLs`,
            );
          continue;
        }
        const rel = relative(paths.collectionDir, f.path);
        if (dirname(rel) === '.' && !rel.endsWith('.bru')) {
          if (shared.get(rel) !== f.content) throw new Error(`shared Bruno run: ${part.name}'s ${rel} differs`);
          continue;
        }
        if (rel === 'collection.bru') {
          if (shared.get(rel) !== f.content)
            throw new Error(`shared Bruno run: ${part.name}'s collection script differs (run it alone)`);
          continue;
        }
        let content = f.content;
        for (const [name, url] of Object.entries(URL_VARIABLES))
          content = content.replaceAll(`{{${name}}}`, url(part.config));
        if (/\{\{v[23]_(refund_)?notify_url\}\}/.test(content)) throw new Error(`${rel}: a URL variable is left`);
        const path = join(folder, rel);
        readSpec(part.name, path, content);
        laidOut.push({ ...f, path: join(collectionDir, path), content });
      }
    });
    writeFilesAtomic(laidOut);
    const report = join(out, 'report.json');
    const args = [
      BRU,
      'run',
      ...(options.paths ?? []),
      '-r',
      '--env-file',
      relative(collectionDir, first.paths.environment),
      '--sandbox',
      options.sandbox,
      '--reporter-json',
      report,
    ];
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        process.execPath,
        args,
        { cwd: collectionDir, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 },
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
    const requests = iterations
      .flatMap((it) => it.results)
      .map((r: any) => {
        const traced = specs.get(r.test.filename);
        if (!traced) throw new Error(`no case for ${r.test.filename}`);
        const tests = [
          ...(r.preRequestTestResults ?? []),
          ...(r.postResponseTestResults ?? []),
          ...(r.testResults ?? []),
        ].map((t: any) => ({
          name: String(t.description),
          pass: t.status === 'pass',
          ...(t.error ? { error: String(t.error) } : {}),
        }));
        const { spec } = traced;
        const result: BrunoRequestResult = {
          caseId: spec.id,
          copy: spec.copy ?? 1,
          status: String(r.status),
          error: r.error ?? null,
          tests,
        };
        return { part: traced.part, result };
      });
    return new Map(
      parts.map((part) => {
        const mine = requests.filter((r) => r.part === part.name).map((r) => r.result);
        const failing = [
          ...new Set(mine.filter((r) => r.status !== 'pass' || r.tests.some((t) => !t.pass)).map((r) => r.caseId)),
        ].sort();
        return [part.name, { exitCode: code, output, requests: mine, failing }];
      }),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
