import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export const GNU_TIME = '/usr/bin/time';

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Spawn to exit, measured by this process. */
  wallMs: number;
  /** Peak resident set in KB from `/usr/bin/time -v`, when that tool exists. */
  maxRssKb?: number;
  /** User + system CPU seconds of the child (all its threads), from `/usr/bin/time -v`. */
  cpuS?: number;
}

export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

/** `Maximum resident set size (kbytes): N` from GNU time's verbose report. */
export function parseMaxRssKb(text: string): number | undefined {
  const match = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** `User time (seconds): U` + `System time (seconds): S` from GNU time's verbose report. */
export function parseCpuSeconds(text: string): number | undefined {
  const user = /User time \(seconds\):\s*([\d.]+)/.exec(text);
  const sys = /System time \(seconds\):\s*([\d.]+)/.exec(text);
  return user && sys ? Number(user[1]) + Number(sys[1]) : undefined;
}

/**
 * Runs a command to completion, wall-timed from spawn to exit; under `/usr/bin/time -v` when it
 * exists (its report is taken off the end of stderr).
 */
export function runChild(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ChildRun> {
  const timed = hasGnuTime();
  const [cmd, argv] = timed ? [GNU_TIME, ['-v', command, ...args]] : [command, [...args]];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, argv, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      let stderr = Buffer.concat(err).toString('utf8');
      let maxRssKb: number | undefined;
      let cpuS: number | undefined;
      if (timed) {
        maxRssKb = parseMaxRssKb(stderr);
        cpuS = parseCpuSeconds(stderr);
        const at = stderr.lastIndexOf('\tCommand being timed:');
        if (at >= 0) stderr = stderr.slice(0, at);
      }
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr, wallMs, maxRssKb, cpuS });
    });
  });
}
