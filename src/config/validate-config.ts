import { Checker, isPlainObject, join, type Env, type KeyFileRef } from './config-checker.js';
import { CONFIG } from './contract.js';
import type { ConfigProblem } from '../shared/errors.js';
import { leaves, type Section } from './spec.js';
import type { ResolvedConfig } from './types.js';

/**
 * Validate a parsed config and resolve its ${ENV} references, field by field as the contract
 * (contract.ts) lists them. Pure: no file access; key files are only named (keyFiles) for
 * loadConfig to read. Returns every problem, each with its field path.
 */

// Re-exported so callers keep importing the config API from one place.
export type { Env, KeyFileRef } from './config-checker.js';
export { ORDER_DEFAULTS } from './contract.js';
export { suggest } from './suggest.js';

/** The allowed field names, a tree (from the contract). */
export type FieldTree = { readonly [name: string]: FieldTree | 'value' };
export const CONFIG_FIELDS: FieldTree = fieldTree(CONFIG);

/** A config that passed validation; key files are named but not read yet (privateKeyPem is ''). */
export type ValidatedConfig = Omit<ResolvedConfig, 'configDir'>;
export interface ValidationResult {
  /** Present only when there are no problems. */
  config?: ValidatedConfig;
  problems: ConfigProblem[];
  /** Every privateKeyFile that is a valid string, even when other fields have problems. */
  keyFiles: KeyFileRef[];
}

export function validateConfig(raw: unknown, env: Env): ValidationResult {
  const c = new Checker(env);
  c.secrets.push(...configuredSecrets(raw, c));
  const config = readSection(c, raw, '', CONFIG, {});
  if (c.problems.length > 0 || config === undefined) return { problems: c.problems, keyFiles: c.keyFiles };
  return { config: config as unknown as ValidatedConfig, problems: [], keyFiles: c.keyFiles };
}

/**
 * One order checked by the config's own `order` rules (formats, amounts, refund ≤ total), values
 * taken literally (no ${NAME}); `run --data` checks each row with it. `secrets` are masked in messages.
 * Problems' paths are the contract's field names (`outTradeNo`, `refund`).
 */
export function validateOrder(
  raw: Readonly<Record<string, unknown>>,
  secrets: readonly string[],
): { order?: ResolvedConfig['order']; problems: ConfigProblem[] } {
  const c = new Checker({}, true);
  c.secrets.push(...secrets);
  const order = readSection(c, raw, '', CONFIG.fields.order, {});
  return c.problems.length > 0 || order === undefined
    ? { problems: c.problems }
    : { order: order as ResolvedConfig['order'], problems: [] };
}

type Obj = Record<string, unknown>;

/** One section: unknown fields first, then each field in contract order. */
function readSection(c: Checker, raw: unknown, path: string, spec: Section, parent: Obj): Obj | undefined {
  const o = raw === undefined && spec.defaulted ? {} : c.object(raw, path, spec.fields);
  if (!o) return undefined;
  if (spec.needs && parent[spec.needs.field] === undefined) c.add(path, spec.needs.message);
  const out: Obj = {};
  for (const [key, field] of Object.entries(spec.fields)) {
    const at = join(path, key);
    const group = spec.atLeastOne;
    if (group?.fields[0] === key && group.fields.every((name) => o[name] === undefined))
      c.add(group.path, group.message);
    const value = o[key];
    if (field.kind === 'section') {
      if (value === undefined && !field.defaulted) {
        if (field.required) c.add(at, 'is required');
        continue;
      }
      const read = readSection(c, value, at, field, o);
      if (read !== undefined) out[key] = read;
      continue;
    }
    let read: unknown;
    if (value !== undefined)
      read = field.rule.read(c, value, { path: at, what: field.what, secretLabel: field.secretLabel, siblings: out });
    else if (field.required) c.add(at, field.what ? `is required: ${field.what}` : 'is required');
    else read = field.default ?? field.derive?.value(out);
    if (read !== undefined && !field.ignored) out[key] = read;
  }
  return spec.adds ? { ...out, ...spec.adds } : out;
}

/** The API keys as configured, before any check: even an invalid one must not be echoed. */
function configuredSecrets(raw: unknown, c: Checker): string[] {
  return leaves(CONFIG)
    .filter(({ leaf }) => leaf.secretLabel !== undefined)
    .map(({ path }) => path.reduce<unknown>((node, key) => (isPlainObject(node) ? node[key] : undefined), raw))
    .filter((v): v is string => typeof v === 'string')
    .map((v) => c.resolveQuietly(v).trim())
    .filter((v) => v !== '');
}

function fieldTree(spec: Section): FieldTree {
  return Object.fromEntries(
    Object.entries(spec.fields).map(([key, field]) => [key, field.kind === 'section' ? fieldTree(field) : 'value']),
  );
}
