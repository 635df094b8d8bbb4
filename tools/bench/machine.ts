import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { createRequire } from 'node:module';

function packageVersion(name: string): string {
  try {
    return (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** Other work on the machine skews every number: worth printing beside them. */
export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

/** The facts that make a bench result comparable with another machine's. */
export function machineFacts(quick: boolean): [string, string][] {
  const cpu = cpus();
  return [
    ['CPU', `${cpu[0]?.model.trim() ?? 'unknown'}`],
    ['cores', `${cpu.length} logical`],
    ['memory', `${(totalmem() / 1024 ** 3).toFixed(1)} GB`],
    ['Node', process.version],
    ['OS', `${platform()} ${release()} ${arch()}`],
    ['newman', packageVersion('newman')],
    ['mode', quick ? '--quick (fewer iterations, no 10,000-case generate)' : 'full'],
    ['load average (1/5/15 min) at start', loadAverage()],
    ['date', new Date().toISOString()],
  ];
}
