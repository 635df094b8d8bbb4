import { extname } from 'node:path';
// jsonc-parser ships UMD as its main entry: Node's ESM loader sees one default export, not named ones.
import jsonc from 'jsonc-parser';
import { parseDocument } from 'yaml';
import { ConfigError, UserError } from '../shared/errors.js';

/**
 * Parse the text of a config file: `.json`/`.jsonc` as JSONC (JSON plus `//` and `/* *\/` comments
 * and trailing commas), `.yaml`/`.yml` as YAML. Pure. Syntax errors throw a ConfigError naming the
 * line and column.
 *
 * JSONC is read with Microsoft's jsonc-parser (the one VS Code reads `.jsonc` with), as a syntax
 * tree: its errors are codes with offsets, never quoted source text (a config line can hold an API
 * key), and the tree lets us refuse duplicate keys and keep `__proto__` an ordinary property, which
 * its own `parse` would not. Node's JSON.parse is not used: its errors can quote the source.
 */
export function parseConfigText(text: string, fileName: string): unknown {
  const ext = extname(fileName).toLowerCase();
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const isJson = ext === '.json' || ext === '.jsonc';
  if (!isJson && ext !== '.yaml' && ext !== '.yml') {
    throw new UserError(
      `${fileName}: a config file must end in .jsonc, .json, .yaml or .yml (got "${ext || 'no extension'}")`,
      'E_CONFIG_FORMAT',
    );
  }
  if (body.trim() === '') {
    throw new ConfigError(fileName, [
      { path: '', message: 'the file is empty; run `wxpay-notify init` to create a config' },
    ]);
  }
  return isJson ? parseJsonc(body, fileName) : parseYaml(body, fileName);
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
  BAD_SCALAR_START:
    'a plain value cannot start with this character (@ ` % and others are reserved); put the value in quotes',
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
    const message =
      YAML_PROBLEMS[error.code] ??
      (error.code === 'MISSING_CHAR' ? clip(error.message) : `YAML syntax error (${error.code})`);
    throw new ConfigError(fileName, [
      { path: '', message: `invalid YAML at ${lineAndColumn(text, error.pos[0])}: ${message}` },
    ]);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch {
    // Unresolved aliases and alias bombs; the library's message names the alias, so it is not reused.
    throw new ConfigError(fileName, [
      {
        path: '',
        message:
          'invalid YAML: an alias (`*name`) must refer to an anchor (`&name`) defined before it, and aliases must not expand too far',
      },
    ]);
  }
}

function clip(message: string): string {
  const first = message.split('\n')[0] ?? '';
  return first.length > 120 ? `${first.slice(0, 117)}...` : first;
}

const MAX_DEPTH = 100;

/** Our words for jsonc-parser's error codes; none quotes the source. */
const JSON_PROBLEMS: Readonly<Record<number, string>> = {
  [jsonc.ParseErrorCode.InvalidSymbol]:
    'unexpected text here; a value is a number, a "string" in double quotes, true, false, null, { } or [ ]',
  [jsonc.ParseErrorCode.InvalidNumberFormat]: 'not a valid number',
  [jsonc.ParseErrorCode.PropertyNameExpected]: 'expected a property name in double quotes or `}`',
  [jsonc.ParseErrorCode.ValueExpected]: 'expected a value',
  [jsonc.ParseErrorCode.ColonExpected]: 'expected `:` after the property name',
  [jsonc.ParseErrorCode.CommaExpected]: 'expected `,` here (a missing comma?)',
  [jsonc.ParseErrorCode.CloseBraceExpected]: 'expected `,` or `}` after a property value (a missing comma?)',
  [jsonc.ParseErrorCode.CloseBracketExpected]: 'expected `,` or `]` after an array element (a missing comma?)',
  [jsonc.ParseErrorCode.EndOfFileExpected]: 'unexpected text after the end of the config',
  [jsonc.ParseErrorCode.InvalidCommentToken]: 'not a valid comment; comments start with // or /*',
  [jsonc.ParseErrorCode.UnexpectedEndOfComment]: 'this /* comment is never closed with */',
  [jsonc.ParseErrorCode.UnexpectedEndOfString]:
    'this string is never closed with `"` on its line (a string cannot span lines; write \\n for a line break)',
  [jsonc.ParseErrorCode.UnexpectedEndOfNumber]: 'a number ends too early',
  [jsonc.ParseErrorCode.InvalidUnicode]: '`\\u` must be followed by 4 hex digits',
  [jsonc.ParseErrorCode.InvalidEscapeCharacter]:
    'invalid escape in string; a backslash must be written as \\\\ (e.g. in Windows paths) or use /',
  [jsonc.ParseErrorCode.InvalidCharacter]:
    'a string cannot contain a control character (a tab or other); write it escaped, e.g. \\t',
};

function parseJsonc(text: string, fileName: string): unknown {
  const fail = (at: number, message: string): never => {
    throw new ConfigError(fileName, [{ path: '', message: `invalid JSON at ${lineAndColumn(text, at)}: ${message}` }]);
  };
  checkDepth(text, fail);
  const errors: jsonc.ParseError[] = [];
  const tree = jsonc.parseTree(text, errors, {
    allowTrailingComma: true,
    disallowComments: false,
    allowEmptyContent: false,
  });
  const first = errors[0];
  if (first) {
    // A single quote is the one stray character worth naming: JSON strings take double quotes.
    const hint = text[first.offset] === "'" ? ' (JSON strings use double quotes)' : '';
    fail(first.offset, `${JSON_PROBLEMS[first.error] ?? 'JSON syntax error'}${hint}`);
  }
  if (!tree) return fail(0, 'expected a value');
  return toValue(tree, fail);
}

/** Refuse deep nesting before building a tree: parsing recurses once per level. */
function checkDepth(text: string, fail: (at: number, message: string) => never): void {
  const scanner = jsonc.createScanner(text, true);
  let depth = 0;
  for (let token = scanner.scan(); token !== jsonc.SyntaxKind.EOF; token = scanner.scan()) {
    if (token === jsonc.SyntaxKind.OpenBraceToken || token === jsonc.SyntaxKind.OpenBracketToken) {
      depth += 1;
      if (depth > MAX_DEPTH) fail(scanner.getTokenOffset(), `nested more than ${MAX_DEPTH} levels deep`);
    } else if (token === jsonc.SyntaxKind.CloseBraceToken || token === jsonc.SyntaxKind.CloseBracketToken) {
      depth -= 1;
    }
  }
}

/** The value of a syntax tree node; an object key seen twice is an error naming where. */
function toValue(node: jsonc.Node, fail: (at: number, message: string) => never): unknown {
  if (node.type === 'array') return (node.children ?? []).map((child) => toValue(child, fail));
  if (node.type !== 'object') return node.value as unknown;
  const object: Record<string, unknown> = {};
  for (const property of node.children ?? []) {
    const [keyNode, valueNode] = property.children ?? [];
    if (!keyNode || !valueNode) continue;
    const key = String(keyNode.value);
    if (Object.hasOwn(object, key))
      fail(keyNode.offset, `property "${key.slice(0, 40)}" appears twice in this object; keep one`);
    // defineProperty, so that a key named __proto__ stays an ordinary property.
    Object.defineProperty(object, key, {
      value: toValue(valueNode, fail),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return object;
}
