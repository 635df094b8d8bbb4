import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, UserError } from '../shared/errors.js';

/**
 * Parse the text of a config file: `.json`/`.jsonc` as JSONC (JSON plus `//` and `/* *\/` comments
 * and trailing commas), `.yaml`/`.yml` as YAML. Pure. Syntax errors throw a ConfigError naming the
 * line and column.
 *
 * JSONC is read by a small parser of its own rather than comment-stripping + JSON.parse: Node 20's
 * JSON.parse errors often carry no position, and some quote the source text, which could put an
 * API key into an error message.
 */
export function parseConfigText(text: string, fileName: string): unknown {
  const ext = extname(fileName).toLowerCase();
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const isJson = ext === '.json' || ext === '.jsonc';
  if (!isJson && ext !== '.yaml' && ext !== '.yml') {
    throw new UserError(`${fileName}: a config file must end in .json, .yaml or .yml (got "${ext || 'no extension'}")`, 'E_CONFIG_FORMAT');
  }
  if (body.trim() === '') {
    throw new ConfigError(fileName, [{ path: '', message: 'the file is empty; run `wxpay-notify init` to create a config' }]);
  }
  return isJson ? new JsoncParser(body, fileName).parseDocument() : parseYaml(body, fileName);
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line}, column ${column}`;
}

/**
 * Our own words for YAML errors: several of the library's messages quote the source, and a quoted
 * line could hold an API key. Only MISSING_CHAR's messages ("Missing closing \"quote") never do.
 */
const YAML_PROBLEMS: Readonly<Record<string, string>> = {
  MULTIPLE_DOCS: 'the file holds more than one YAML document (`---`); keep a single config',
  DUPLICATE_KEY: 'this key appears twice in the same mapping; keep one',
  TAB_AS_INDENT: 'tabs are not allowed as indentation in YAML; indent with spaces',
  BAD_INDENT: 'wrong indentation; the keys of one mapping must start in the same column',
  BAD_SCALAR_START: 'a plain value cannot start with this character (@ ` % and others are reserved); put the value in quotes',
  BLOCK_AS_IMPLICIT_KEY: 'a key must fit on one line (a missing `:` or closing quote?)',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line (a missing `:` or closing quote?)',
  UNEXPECTED_TOKEN: 'unexpected text here (a missing `:`, quote or indentation?)',
  BAD_DQ_ESCAPE: 'invalid escape in a double-quoted string; write \\\\ for a backslash, or use single quotes',
  BLOCK_IN_FLOW: 'a block value inside [ ] or { }; write it inline',
  KEY_OVER_1024_CHARS: 'a key is longer than 1024 characters',
};

function parseYaml(text: string, fileName: string): unknown {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const message = YAML_PROBLEMS[error.code] ?? (error.code === 'MISSING_CHAR' ? clip(error.message) : `YAML syntax error (${error.code})`);
    throw new ConfigError(fileName, [{ path: '', message: `invalid YAML at ${lineAndColumn(text, error.pos[0])}: ${message}` }]);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch {
    // Unresolved aliases and alias bombs; the library's message names the alias, so it is not reused.
    throw new ConfigError(fileName, [{ path: '', message: 'invalid YAML: an alias (`*name`) must refer to an anchor (`&name`) defined before it, and aliases must not expand too far' }]);
  }
}

function clip(message: string): string {
  const first = message.split('\n')[0] ?? '';
  return first.length > 120 ? `${first.slice(0, 117)}...` : first;
}

const MAX_DEPTH = 100;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** A recursive-descent JSON parser that skips comments and allows trailing commas. */
class JsoncParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly fileName: string,
  ) {}

  parseDocument(): unknown {
    const value = this.parseValue(0);
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected ${this.found()} after the end of the config`);
    return value;
  }

  private fail(message: string, at = this.pos): never {
    throw new ConfigError(this.fileName, [{ path: '', message: `invalid JSON at ${lineAndColumn(this.text, at)}: ${message}` }]);
  }

  /** What is at the current position, for messages: one character, never more of the source. */
  private found(): string {
    const ch = this.text[this.pos];
    if (ch === undefined) return 'end of file';
    if (ch === "'") return "`'` (JSON strings use double quotes)";
    const code = ch.charCodeAt(0);
    return code < 0x20 || code === 0x7f ? `character U+${code.toString(16).padStart(4, '0')}` : `\`${ch}\``;
  }

  private skipSpace(): void {
    const { text } = this;
    while (this.pos < text.length) {
      const ch = text[this.pos];
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
        this.pos += 1;
      } else if (ch === '/' && text[this.pos + 1] === '/') {
        const end = text.indexOf('\n', this.pos);
        this.pos = end === -1 ? text.length : end + 1;
      } else if (ch === '/' && text[this.pos + 1] === '*') {
        const end = text.indexOf('*/', this.pos + 2);
        if (end === -1) this.fail('this /* comment is never closed with */');
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }

  private parseValue(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nested more than ${MAX_DEPTH} levels deep`);
    this.skipSpace();
    const ch = this.text[this.pos];
    if (ch === '{') return this.parseObject(depth);
    if (ch === '[') return this.parseArray(depth);
    if (ch === '"') return this.parseString();
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return this.parseNumber();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail(`expected a value, found ${this.found()}`);
  }

  private parseObject(depth: number): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    this.pos += 1;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos += 1;
        return object;
      }
      if (this.text[this.pos] !== '"') this.fail(`expected a property name in double quotes or \`}\`, found ${this.found()}`);
      const keyAt = this.pos;
      const key = this.parseString();
      if (Object.hasOwn(object, key)) this.fail(`property "${key.slice(0, 40)}" appears twice in this object; keep one`, keyAt);
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail(`expected \`:\` after the property name, found ${this.found()}`);
      this.pos += 1;
      // defineProperty, so that a key named __proto__ stays an ordinary property.
      Object.defineProperty(object, key, { value: this.parseValue(depth + 1), enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos += 1;
      else if (this.text[this.pos] !== '}') this.fail(`expected \`,\` or \`}\` after a property value (a missing comma?), found ${this.found()}`);
    }
  }

  private parseArray(depth: number): unknown[] {
    const array: unknown[] = [];
    this.pos += 1;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === ']') {
        this.pos += 1;
        return array;
      }
      array.push(this.parseValue(depth + 1));
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos += 1;
      else if (this.text[this.pos] !== ']') this.fail(`expected \`,\` or \`]\` after an array element (a missing comma?), found ${this.found()}`);
    }
  }

  private parseString(): string {
    const start = this.pos;
    const { text } = this;
    let out = '';
    this.pos += 1;
    for (;;) {
      const ch = text[this.pos];
      if (ch === undefined) this.fail('this string is never closed with `"`', start);
      if (ch === '"') {
        this.pos += 1;
        return out;
      }
      if (ch.charCodeAt(0) < 0x20) this.fail('a string cannot contain a raw line break or control character; write \\n or close the string with `"`');
      if (ch !== '\\') {
        out += ch;
        this.pos += 1;
        continue;
      }
      const next = text[this.pos + 1];
      if (next === 'u') {
        const hex = text.slice(this.pos + 2, this.pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('`\\u` must be followed by 4 hex digits');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
      } else if (next !== undefined && Object.hasOwn(ESCAPES, next)) {
        out += ESCAPES[next];
        this.pos += 2;
      } else {
        this.fail('invalid escape in string; a backslash must be written as \\\\ (e.g. in Windows paths) or use /');
      }
    }
  }

  private parseNumber(): number {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) this.fail(`expected a number, found ${this.found()}`);
    this.pos += match[0].length;
    return Number(match[0]);
  }
}
