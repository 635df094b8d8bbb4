import type { ConfigProblem } from '../shared/errors.js';
import { suggest } from './suggest.js';
import { redact } from '../shared/redact.js';

/**
 * What every field check shares: the problem list (so the user sees every problem at once, not one
 * per run), unknown-field detection, string and ${ENV} handling, and masking secrets in messages.
 * The per-kind rules are in rules.ts.
 */

/** A privateKeyFile value (relative to the config file), with its field path. */
export interface KeyFileRef {
  path: string;
  /** With ${NAME} resolved. */
  file: string;
  /** As written in the config: what messages may show, since env values may be secret. */
  written: string;
}
export type Env = Readonly<Record<string, string | undefined>>;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The one `${NAME}` resolver: every reference replaced by env[NAME] (`unset` decides what an unset
 * or empty one becomes), with what went wrong listed, not reported: the config checks report it by
 * field, doctor and the redactor only need the value.
 */
export function resolveEnvReferences(
  value: string,
  env: Env,
  unset: 'empty' | 'keep' = 'empty',
): {
  resolved: string;
  missing: { name: string; state: 'is not set' | 'is empty' }[];
  malformed: boolean;
} {
  const missing: { name: string; state: 'is not set' | 'is empty' }[] = [];
  let malformed = value.replace(/\$\{[^}]*\}/g, '').includes('${');
  const resolved = value.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
    if (!ENV_NAME.test(name)) {
      malformed = true;
      return unset === 'keep' ? whole : '';
    }
    const found = Object.hasOwn(env, name) ? env[name] : undefined;
    if (found === undefined || found === '') {
      missing.push({ name, state: found === undefined ? 'is not set' : 'is empty' });
      return unset === 'keep' && found === undefined ? whole : (found ?? '');
    }
    return found;
  });
  return { resolved, missing, malformed };
}

type Obj = Record<string, unknown>;

/** Where a value is read: its field path and the words its field gives messages (see FieldContext). */
export interface ValueAt {
  readonly path: string;
  readonly what?: string | undefined;
  readonly secretLabel?: string | undefined;
}

/** Collects problems; each reader returns undefined when it reported one. */
export class Checker {
  readonly problems: ConfigProblem[] = [];
  readonly keyFiles: KeyFileRef[] = [];
  /**
   * The secret values the config holds (its API keys as written or read from ${ENV}), valid or
   * not: no message may echo one, e.g. an APIv2 key pasted into the sign type field.
   */
  readonly secrets: string[] = [];

  /**
   * `literal`: values are taken as written, `${NAME}` included (a data file's cells: they reach the
   * wire byte for byte, and an environment value must never be pulled into a notification).
   */
  constructor(
    private readonly env: Env,
    private readonly literal = false,
  ) {}

  add(path: string, message: string): void {
    this.problems.push({ path: redact(path, this.secrets), message: redact(message, this.secrets) });
  }

  /** A short, quoted echo of a value as written, with any secret masked before it is cut short. */
  shown(written: unknown): string {
    return shown(redact(String(written), this.secrets));
  }

  /** ${NAME} resolved without reporting anything (unset: left as written). */
  resolveQuietly(value: string): string {
    return resolveEnvReferences(value, this.env, 'keep').resolved;
  }

  object(value: unknown, path: string, fields: Readonly<Record<string, unknown>>): Obj | undefined {
    if (!isPlainObject(value)) {
      this.add(
        path,
        path === ''
          ? `the config must be an object (a JSON object or YAML mapping) with name, appid, mchid and a v2 or v3 section; got ${typeName(value)}`
          : `expected an object, got ${typeName(value)}`,
      );
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (Object.hasOwn(fields, key)) continue;
      const guess = suggest(key, Object.keys(fields));
      this.add(
        join(path, key),
        guess
          ? `unknown field; did you mean \`${guess}\`?`
          : `unknown field; expected one of: ${Object.keys(fields).join(', ')}`,
      );
    }
    return value;
  }

  /**
   * A string value: type, ${NAME} resolution, not empty, no surrounding whitespace, no control
   * character. The schema's `text` definitions (rules.ts) state the same as patterns.
   */
  text(raw: unknown, at: ValueAt): string | undefined {
    const { path, what } = at;
    if (typeof raw !== 'string') {
      this.add(
        path,
        `expected a string, got ${typeName(raw)}${typeof raw === 'number' ? '; put the value in quotes' : ''}`,
      );
      return undefined;
    }
    const resolved = this.literal ? raw : this.resolveEnv(raw, path);
    if (resolved === undefined) return undefined;
    if (resolved === '') {
      this.add(path, what ? `must not be empty: ${what}` : 'must not be empty; give a value or remove the field');
      return undefined;
    }
    if (resolved.trim() !== resolved) {
      const label = at.secretLabel;
      this.add(
        path,
        label
          ? `the ${label} has leading or trailing whitespace (a copied line break?); remove it`
          : 'has leading or trailing whitespace; remove it',
      );
      return undefined;
    }
    // A line break or escape would be written into the collection and environment as it is (a URL
    // parser even drops tabs and line breaks silently); name the character, never the value.
    const control = /[\u0000-\u001f\u007f-\u009f]/.exec(resolved);
    if (control) {
      const code = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      this.add(
        path,
        `contains a control character (${code})${raw.includes('${') ? ', read from an environment variable' : ''}; remove it`,
      );
      return undefined;
    }
    // XML 1.0 cannot carry U+FFFE or U+FFFF, and UTF-8 no lone surrogate (it would go out as U+FFFD).
    const uncarried = /[\ud800-\udfff\ufffe\uffff]/u.exec(resolved);
    if (uncarried) {
      const code = `U+${uncarried[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      this.add(path, `contains ${code}, which no notification can carry (not a character of XML or UTF-8); remove it`);
      return undefined;
    }
    return resolved;
  }

  /** Replace every ${NAME} with env[NAME]; report unset or empty variables by name. */
  private resolveEnv(value: string, path: string): string | undefined {
    const before = this.problems.length;
    const { resolved, missing, malformed } = resolveEnvReferences(value, this.env);
    for (const { name, state } of missing)
      this.add(path, `environment variable ${name} ${state}; set ${name} or put the value in the config`);
    if (malformed) {
      this.add(
        path,
        'has a `${` that does not start a valid ${NAME} reference; NAME takes letters, digits and _ and does not start with a digit',
      );
    }
    return this.problems.length === before ? resolved : undefined;
  }
}

export function isPlainObject(value: unknown): value is Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return isPlainObject(value) ? 'object' : 'a non-JSON value';
  return typeof value;
}

export function join(parent: string, key: string): string {
  const part = key.length > 40 ? `${key.slice(0, 37)}...` : key;
  const safe = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(part) ? part : JSON.stringify(part);
  return parent === '' ? safe : `${parent}.${safe}`;
}

/**
 * Short, quoted echo of a non-secret value, as written: ${NAME} references stay unresolved, so a
 * secret read from the environment never reaches a message.
 */
export function shown(written: unknown): string {
  const value = String(written);
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}
