import { typeName, type Checker } from './config-checker.js';
import type { FieldContext, JsonSchema, Rule } from './spec.js';
import { suggest } from './suggest.js';

/**
 * The kinds of value a config holds. Each rule is written twice, side by side: as the check that
 * reports problems (with wording, field path and masked secrets) and as JSON Schema. The contract
 * test runs a corpus of configs through both and demands the same verdict.
 *
 * Strings: a value without `${` is checked as written; a value with ${NAME} references is checked
 * by wxpay-notify after they are resolved, so the schema only checks that the references are well
 * formed and the written text around them has no control character and no surrounding whitespace.
 */

const CONTROL = String.raw`\u0000-\u001f\u007f-\u009f`;
/** What no notification can carry byte for byte: XML 1.0 has no U+FFFE/U+FFFF, UTF-8 no lone surrogate. */
const NOT_CARRIED = String.raw`\ud800-\udfff\ufffe\uffff`;
const TEXT_GUARDS = String.raw`^(?!\s)(?![\s\S]*\s$)(?![\s\S]*[${CONTROL}${NOT_CARRIED}])`;
const NOT_A_REFERENCE = String.raw`(?:[^$]|\$(?!\{))*`;

/** A string as the checker accepts it: not empty, no surrounding whitespace, no control character. */
export const PLAIN_TEXT = new RegExp(String.raw`${TEXT_GUARDS}(?![\s\S]*\$\{)[\s\S]+$`, 'u');
/** A string with at least one ${NAME} reference and no `${` that starts none. */
export const TEXT_WITH_ENV = new RegExp(
  String.raw`${TEXT_GUARDS}${NOT_A_REFERENCE}(?:\$\{[A-Za-z_][A-Za-z0-9_]*\}${NOT_A_REFERENCE})+$`,
  'u',
);

/** The `$defs` the rules' schemas refer to. `$comment`, not `description`: an editor shows the description of the subschema a value matches, which would hide the field's own. */
export const TEXT_DEFS: JsonSchema = {
  text: {
    $comment:
      'A string: not empty, no leading or trailing whitespace, no control character; may contain ${NAME}, read from the environment.',
    anyOf: [{ $ref: '#/$defs/plainText' }, { $ref: '#/$defs/textWithEnv' }],
  },
  plainText: { $comment: 'A string without ${NAME}, checked as written.', type: 'string', pattern: PLAIN_TEXT.source },
  textWithEnv: {
    $comment:
      'A string with ${NAME} references (NAME: letters, digits and _, not starting with a digit); wxpay-notify checks the value they resolve to.',
    type: 'string',
    pattern: TEXT_WITH_ENV.source,
  },
};

/** The schema of a string that, written without ${NAME}, must also match `plain` (a pattern or a list). */
function textSchema(plain?: RegExp | readonly string[]): JsonSchema {
  if (plain === undefined) return { $ref: '#/$defs/text' };
  const written = plain instanceof RegExp ? { $ref: '#/$defs/plainText', pattern: plain.source } : { enum: [...plain] };
  return { type: 'string', anyOf: [written, { $ref: '#/$defs/textWithEnv' }] };
}

/** Any non-empty string (see Checker.text). */
export function text(): Rule<string> {
  return { read: (c, raw, at) => c.text(raw, at), schema: textSchema() };
}

/**
 * A string that must also match `form` (after ${NAME} resolution). `check` reports, in the words it
 * chooses, exactly the values `form` refuses, and may turn the value into what the config holds.
 */
export function textOfForm<T = string>(
  form: RegExp,
  check: (c: Checker, value: string, at: FieldContext, raw: unknown) => T | undefined,
): Rule<T> {
  return {
    read: (c, raw, at) => {
      const value = c.text(raw, at);
      return value === undefined ? undefined : check(c, value, at, raw);
    },
    schema: textSchema(form),
  };
}

/** A string matching `form`, else one message that quotes the value as written. */
export function textMatching(form: RegExp, problem: (shown: string) => string): Rule<string> {
  return textOfForm(form, (c, value, at, raw) => {
    if (form.test(value)) return value;
    c.add(at.path, problem(c.shown(raw)));
    return undefined;
  });
}

/** One of a few words, with a did-you-mean for a near miss. */
export function oneOf<const T extends string>(
  choices: readonly T[],
  problem: (shown: string, guess: string | undefined) => string,
): Rule<T> {
  return {
    read: (c, raw, at) => {
      const value = c.text(raw, at);
      if (value === undefined) return undefined;
      const found = choices.find((choice) => choice === value);
      if (found === undefined) c.add(at.path, problem(c.shown(raw), suggest(value, choices)));
      return found;
    },
    schema: textSchema(choices),
  };
}

/**
 * An absolute http(s) URL. The pattern is what the schema can say; the WHATWG URL parser (what
 * newman sends with) also refuses what the pattern lets through, such as an IPv4 address with a
 * part over 255 or a port over 65535.
 */
export const HTTP_URL =
  /^(?![^{}]*[{}])[Hh][Tt][Tt][Pp][Ss]?:\/\/(?:[^\s/?#@]*@)?(?:\[[0-9A-Fa-f:.]+\]|[^\s/?#@:[\]]+)(?::[0-9]*)?(?:[/?#]\S*)?$/u;

export function httpUrl(): Rule<string> {
  return textOfForm(HTTP_URL, (c, value, at, raw) => {
    if (HTTP_URL.test(value) && parsesAsUrl(value)) return value;
    if (/[{}]/.test(value)) {
      // Postman and Bruno read {{name}} in a URL as a variable (a secret's name would send the secret).
      c.add(at.path, `must not contain { or }: write them as %7B and %7D (got ${c.shown(raw)})`);
      return undefined;
    }
    c.add(
      at.path,
      `must be an absolute http:// or https:// URL, e.g. "https://shop.example.com/wxpay/notify" (got ${c.shown(raw)})`,
    );
    return undefined;
  });
}

function parsesAsUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** A 32-character API key. Never put the value, or any part of it, in a message. */
export const API_KEY = /^[!-~]{32}$/u;

export function apiKey(keySource: string): Rule<string> {
  return textOfForm(API_KEY, (c, value, at) => {
    const label = at.secretLabel ?? at.path;
    const length = [...value].length;
    if (length !== 32) {
      c.add(at.path, `the ${label} must be exactly 32 characters (it has ${length}); copy it again from ${keySource}`);
      return undefined;
    }
    if (!API_KEY.test(value)) {
      c.add(
        at.path,
        `the ${label} must be 32 printable ASCII characters (it has others, e.g. full-width or accented letters); copy it again from ${keySource}`,
      );
      return undefined;
    }
    return value;
  });
}

/** A private key file path: checked as text here, read by loadConfig (key files are I/O). */
export function keyFile(): Rule<string> {
  return {
    read: (c, raw, at) => {
      const file = c.text(raw, at);
      if (file !== undefined) c.keyFiles.push({ path: at.path, file, written: String(raw) });
      return file;
    },
    schema: textSchema(),
  };
}

/** Any string, unchecked: `$schema`, which only editors read. */
export function anyString(): Rule<string> {
  return {
    read: (c, raw, at) => {
      if (typeof raw === 'string') return raw;
      c.add(at.path, `expected a string, got ${typeName(raw)}`);
      return undefined;
    },
    schema: { type: 'string' },
  };
}

/**
 * An amount in fen (分): a positive whole number JavaScript holds exactly. `notAbove` names a sibling
 * read before it that the amount must not exceed (its default, when absent, given as `fallback`).
 */
export function amount(label: string, notAbove?: { field: string; label: string; fallback: number }): Rule<number> {
  return {
    read: (c, raw, at) => {
      if (typeof raw !== 'number') {
        const fix = typeof raw === 'string' ? '; write the number without quotes, e.g. 100 for ¥1.00' : '';
        c.add(at.path, `expected a positive integer amount in fen (分), got ${typeName(raw)}${fix}`);
        return undefined;
      }
      if (!Number.isSafeInteger(raw) || raw <= 0) {
        c.add(at.path, `the ${label} must be a positive whole number of fen (分), e.g. 100 for ¥1.00 (got ${raw})`);
        return undefined;
      }
      const limit = notAbove && at.siblings[notAbove.field];
      if (typeof limit === 'number' && raw > limit) {
        c.add(at.path, `the ${label} must not exceed the ${notAbove?.label}: ${raw} > ${limit} fen`);
        return undefined;
      }
      return raw;
    },
    schema: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    // Standard JSON Schema cannot compare two values (ajv's $data can, but editors do not read it):
    // the schema bounds the amount by the sibling's default when the sibling is absent, and states
    // the comparison in words.
    ...(notAbove
      ? {
          sectionSchema: (key: string) => ({
            if: { not: { required: [notAbove.field] } },
            then: { properties: { [key]: { type: 'integer', maximum: notAbove.fallback } } },
          }),
          crossField: { relation: '≤', sibling: notAbove.field },
        }
      : {}),
  };
}

/** Exactly two strings (each as `text()`), e.g. the merchant IDs of the two sub-orders of a combined payment. */
export function stringPair(problems: {
  count: (got: string) => string;
  item: (shown: string) => string;
}): Rule<[string, string]> {
  return {
    read: (c, raw, at) => {
      if (!Array.isArray(raw) || raw.length !== 2) {
        c.add(
          at.path,
          problems.count(Array.isArray(raw) ? `${raw.length} ${raw.length === 1 ? 'entry' : 'entries'}` : c.shown(raw)),
        );
        return undefined;
      }
      const items = (raw as unknown[]).map((item, i) => {
        const path = `${at.path}[${i}]`;
        if (typeof item !== 'string' || item.trim() === '') {
          c.add(path, problems.item(c.shown(item)));
          return undefined;
        }
        return c.text(item, { path });
      });
      const [first, second] = items;
      return first === undefined || second === undefined ? undefined : [first, second];
    },
    schema: { type: 'array', minItems: 2, maxItems: 2, items: textSchema() },
  };
}
