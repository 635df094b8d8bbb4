import { HINTS } from '../judge/causes.js';
import { formatProblem, type ConfigProblem } from '../shared/errors.js';
import type { Env } from '../config/validate-config.js';
import { resolveEnvReferences } from '../config/config-checker.js';
import type { NotifyUrlConfig } from './lint-url.js';
import type { DoctorCheck } from './types.js';

/**
 * Cause 1 of "I never receive the callback": the config's side of it. Pure: turns a loaded config
 * or a ConfigError's problems into doctor checks, and digs the notify URLs out of a raw config so
 * the URL checks still run when the config does not load.
 */

const URL_FIELDS = ['v2.notifyUrl', 'v2.refundNotifyUrl', 'v3.notifyUrl', 'v3.refundNotifyUrl'];

/** The check for a config that loaded: v3 has a 32-character APIv3 key (validation saw to it). */
export function apiV3KeyOk(): DoctorCheck {
  return {
    level: 'ok',
    rule: 'apiv3-key',
    message:
      'the config has a 32-character APIv3 key (APIv3密钥); the same key must be set in the merchant platform (商户平台), or WeChat Pay sends no v3 callbacks',
  };
}

/**
 * One failed check per config problem. APIv3 key problems get the cause-1 wording; problems with a
 * notify URL are left to the URL rules when the URL itself could be read (`lintedUrls`).
 */
export function configProblemChecks(
  configFile: string,
  problems: readonly ConfigProblem[],
  lintedUrls: NotifyUrlConfig,
): DoctorCheck[] {
  const linted = (path: string): boolean => {
    const [version, key] = path.split('.') as ['v2' | 'v3', 'notifyUrl' | 'refundNotifyUrl'];
    return URL_FIELDS.includes(path) && typeof lintedUrls[version]?.[key] === 'string';
  };
  return problems
    .filter((p) => !linted(p.path))
    .map((problem): DoctorCheck => {
      if (problem.path === 'v3.apiV3Key') {
        return {
          level: 'error',
          rule: 'apiv3-key',
          cause: 'apiv3-key',
          message: `v3 is configured without a usable APIv3 key (${problem.message}). ${HINTS['apiv3-key']}`,
        };
      }
      return { level: 'error', rule: 'config', message: formatProblem(configFile, problem) };
    });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `${NAME}` replaced from env; undefined when a variable is unset or the reference is malformed. */
function resolveEnv(value: string, env: Env): string | undefined {
  const { resolved, missing, malformed } = resolveEnvReferences(value, env);
  return missing.length === 0 && !malformed ? resolved : undefined;
}

/** The API keys of a raw parsed config, `${NAME}` resolved: to register with the redactor. */
export function rawSecrets(raw: unknown, env: Env): string[] {
  if (!isObject(raw)) return [];
  const values = [isObject(raw.v2) ? raw.v2.apiKey : undefined, isObject(raw.v3) ? raw.v3.apiV3Key : undefined];
  return values.flatMap((v) => (typeof v === 'string' ? [resolveEnv(v, env) ?? v] : []));
}

/** The notify URLs of a raw parsed config, as written (whitespace kept), `${NAME}` resolved. */
export function rawNotifyUrls(raw: unknown, env: Env): NotifyUrlConfig {
  const urls: NotifyUrlConfig = {};
  if (!isObject(raw)) return urls;
  for (const version of ['v2', 'v3'] as const) {
    const section = raw[version];
    if (!isObject(section)) continue;
    const out: { notifyUrl?: string; refundNotifyUrl?: string } = {};
    for (const key of ['notifyUrl', 'refundNotifyUrl'] as const) {
      const value = section[key];
      const resolved = typeof value === 'string' ? resolveEnv(value, env) : undefined;
      if (resolved !== undefined) out[key] = resolved;
    }
    urls[version] = out;
  }
  return urls;
}
