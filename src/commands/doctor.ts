import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { secretValues } from '../collection/variables.js';
import { ConfigError, type ExitCode } from '../shared/errors.js';
import { loadConfig } from '../config/load-config.js';
import { parseConfigText } from '../config/parse-config-text.js';
import type { Env } from '../config/validate-config.js';
import { apiV3KeyOk, configProblemChecks, rawNotifyUrls, rawSecrets } from '../doctor/config-checks.js';
import { lintConfigUrls, lintNotifyUrl, listNotifyUrls, type NotifyUrlConfig } from '../doctor/lint-url.js';
import { outputDoctorReport as output } from './doctor-output.js';
import { checkReachability, type ReachabilityDeps } from '../doctor/reachability.js';
import type { DoctorCheck, DoctorGroup, DoctorReport } from '../doctor/types.js';
import type { CommandIO } from '../shared/command-io.js';

/**
 * `doctor` walks a merchant through "I never receive the callback", in order: (1) the APIv3 key,
 * (2) is notify_url the URL you meant, (3) the notify_url rules, (4–5) can it be reached — DNS, TCP,
 * TLS, a firewall/WAF/login wall — and (6) does the handler reject junk. `lint-url` does (2)–(3).
 */

export interface DoctorArgs {
  config: string;
  allowPrivate: boolean;
  insecure: boolean;
  format: 'table' | 'json';
  /** Rules only: no DNS, TCP, TLS or probe. */
  skipNetwork?: boolean;
}

/** What the tests (and a library user) may replace. */
export interface DoctorDeps {
  reachability?: Partial<ReachabilityDeps>;
  hostname?: () => string;
  env?: Env;
}

export function ranFromNote(hostname: string): string {
  return [
    `Checked from this machine (${hostname}). A receiver reachable from this network may still be unreachable from`,
    'the internet, and the other way round (split DNS, firewall rules, VPN): when it matters, repeat the check from',
    "outside the merchant's network, e.g. on a CI runner. Next: `wxpay-notify run` sends signed notifications to",
    'check the handler itself.',
  ].join('\n');
}

/** Config checks and the notify URLs; a config that does not validate still yields its URLs. */
async function inspectConfig(
  file: string,
  env: Env,
  io: CommandIO,
): Promise<{ checks: DoctorCheck[]; urls: NotifyUrlConfig }> {
  try {
    const config = await loadConfig(file, env);
    io.addSecrets(secretValues(config));
    return { checks: config.v3 ? [apiV3KeyOk()] : [], urls: config };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    let raw: unknown;
    try {
      raw = parseConfigText(await readFile(file, 'utf8'), file);
    } catch {
      throw error; // unreadable or not even JSON/YAML: nothing to check (exit 2)
    }
    io.addSecrets(rawSecrets(raw, env));
    const urls = rawNotifyUrls(raw, env);
    return { checks: configProblemChecks(file, error.problems, urls), urls };
  }
}

export async function doctorCommand(args: DoctorArgs, io: CommandIO, deps: DoctorDeps = {}): Promise<ExitCode> {
  const env = deps.env ?? process.env;
  const { checks, urls } = await inspectConfig(args.config, env, io);
  const entries = listNotifyUrls(urls);
  const groups: DoctorGroup[] = [
    {
      title: 'Config (APIv3 key, APIv3密钥)',
      checks:
        checks.length > 0
          ? checks
          : [{ level: 'ok', rule: 'config', message: 'the config loads (v2 only: no APIv3 key needed)' }],
    },
  ];
  if (entries.length === 0) {
    groups[0]!.checks.push({
      level: 'error',
      rule: 'notify-url',
      message: 'the config names no notify URL: add a v2 or v3 section with notifyUrl and refundNotifyUrl',
    });
  }
  const network = !args.skipNetwork;
  const perUrl = await Promise.all(
    entries.map(async (entry): Promise<DoctorGroup> => {
      const lint: DoctorCheck[] = lintNotifyUrl(entry.url, { allowPrivate: args.allowPrivate });
      const reach = network
        ? await checkReachability(
            entry.url,
            { allowPrivate: args.allowPrivate, insecure: args.insecure, version: entry.version },
            deps.reachability,
          )
        : [];
      return { title: entry.label, url: entry.url, field: entry.field, checks: [...lint, ...reach] };
    }),
  );
  groups.push(...perUrl);
  const across = lintConfigUrls(urls);
  if (across.length > 0) groups.push({ title: 'The notify URLs together', checks: across });

  const hostname = (deps.hostname ?? osHostname)();
  const report: DoctorReport = {
    command: 'doctor',
    config: args.config,
    groups,
    ...(network && entries.length > 0 ? { ranFrom: { hostname }, note: ranFromNote(hostname) } : {}),
  };
  return output(report, args.format, io);
}

// `lint-url` lives in its own light module (no config loading, no network code); kept importable from here.
export { lintUrlCommand, type LintUrlArgs } from './lint-url.js';
