import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { SANDBOX_DIR } from '../paths.js';

/**
 * Sandbox scripts are plain JavaScript fragments in src/sandbox/lib (function declarations only)
 * plus one entry file per script kind. The bundle is what goes into the collection, byte for byte;
 * tests load that same string into a vm to compare it against the Node reference code.
 */
export type ScriptKind = 'prerequest' | 'test';

const LIB_DIR = join(SANDBOX_DIR, 'lib');
/** Bruno glue: a `pm` over Bruno's bru/req/res API, and one entry per script kind that runs `main`. */
const BRUNO_DIR = join(SANDBOX_DIR, 'bruno');

/** Which library fragments each script needs: the test script must stay light (it runs per request). */
const LIBS: Record<ScriptKind, readonly string[]> = {
  prerequest: [
    'crypto.js',
    'fill-template.js',
    'flat-xml.js',
    'notify-time.js',
    'notify-amounts.js',
    'build-v2.js',
    'build-v3.js',
    'case-spec.js',
  ],
  test: ['flat-xml.js', 'mask.js', 'judge.js', 'case-spec.js'],
};

function libFiles(kind: ScriptKind): readonly string[] {
  const present = new Set(readdirSync(LIB_DIR));
  const missing = LIBS[kind].filter((f) => !present.has(f));
  if (missing.length > 0) throw new Error(`sandbox library missing: ${missing.join(', ')}`);
  return LIBS[kind];
}

/**
 * Drops whole-line comments and blank lines: the readable, commented source lives in the repo, and
 * every byte of the script is recompiled by Postman on every request
 * (docs/architecture.md#the-sandbox-constraint).
 */
export function stripComments(source: string): string {
  const out: string[] = [];
  let inBlock = false;
  for (const line of source.split('\n')) {
    const t = line.trim();
    if (inBlock) {
      if (t.includes('*/')) inBlock = false;
      continue;
    }
    if (t.startsWith('/*')) {
      inBlock = !t.includes('*/');
      continue;
    }
    if (t === '' || t.startsWith('//')) continue;
    out.push(line);
  }
  return out.join('\n');
}

interface Declaration {
  name: string;
  text: string;
}

/** Top-level `function NAME` / `var NAME` declarations of comment-stripped fragments. */
function declarations(sources: readonly string[]): Declaration[] {
  const out: Declaration[] = [];
  for (const source of sources) {
    const starts = [...source.matchAll(/^(?:function|var) ([A-Za-z0-9_]+)/gm)];
    starts.forEach((m, i) => {
      out.push({ name: m[1]!, text: source.slice(m.index, starts[i + 1]?.index ?? source.length).trimEnd() });
    });
  }
  // All fragments share one scope: a second declaration would silently replace the first.
  const names = out.map((d) => d.name);
  const clash = names.find((name, i) => names.indexOf(name) !== i);
  if (clash) throw new Error(`sandbox function ${clash} is declared twice`);
  return out;
}

/** Only what the entry can reach goes into a collection: Postman recompiles every byte per request. */
function reachable(decls: readonly Declaration[], root: string): Declaration[] {
  const keep = new Set<string>();
  const queue = [root];
  while (queue.length > 0) {
    const text = queue.pop()!;
    for (const d of decls) {
      if (!keep.has(d.name) && new RegExp(`\\b${d.name}\\b`).test(text)) {
        keep.add(d.name);
        queue.push(d.text);
      }
    }
  }
  return decls.filter((d) => keep.has(d.name));
}

function constantLines(constants: Readonly<Record<string, unknown>>): string[] {
  return Object.keys(constants)
    .sort()
    .map((name) => `var ${name} = ${JSON.stringify(constants[name])};`);
}

function wrap(constants: Readonly<Record<string, unknown>>, decls: readonly Declaration[], entry: string): string {
  const functions = decls.filter((d) => d.text.startsWith('function')).map((d) => d.name);
  return [
    '// wxpay-notify: generated; edit the case bodies, not this script.',
    '(function () {',
    "'use strict';",
    // Only scripts that use crypto-js require it: the judge, and the builders run over Node's
    // crypto (src/library), stay loadable in plain Node without it.
    ...(decls.some((d) => /\bCryptoJS\b/.test(d.text)) ? ["var CryptoJS = require('crypto-js');"] : []),
    ...constantLines(constants),
    ...decls.map((d) => d.text),
    entry,
    "if (typeof pm !== 'undefined') { main(); }",
    `else if (typeof wxpayNotifyExport === 'function') { wxpayNotifyExport({ ${functions.join(', ')} }); }`,
    '})();',
    '',
  ].join('\n');
}

/**
 * Builds the script text. `constants` are injected as `var NAME = <json>;` so the sandbox shares the
 * protocol constants and hint catalogue with the Node code instead of keeping its own copies.
 */
export function bundleScript(kind: ScriptKind, constants: Readonly<Record<string, unknown>>): string {
  const entry = stripComments(readFileSync(join(SANDBOX_DIR, `${kind}.js`), 'utf8'));
  const decls = declarations(libFiles(kind).map((f) => stripComments(readFileSync(join(LIB_DIR, f), 'utf8'))));
  if (decls.some((d) => new RegExp(`^function ${d.name}\\s*\\(`, 'm').test(entry))) {
    throw new Error(`a sandbox library function is declared again in ${kind}.js`);
  }
  return wrap(constants, reachable(decls, entry), entry);
}

/**
 * The same script for a Bruno collection: the Postman entry and library, unchanged, plus Bruno glue
 * that gives them a `pm` over Bruno's API. Bruno runs a collection script as the body of an async
 * function, so the glue may await the concurrent copies before the request goes out.
 */
export function bundleBrunoScript(kind: ScriptKind, constants: Readonly<Record<string, unknown>>): string {
  const entry = [
    stripComments(readFileSync(join(SANDBOX_DIR, `${kind}.js`), 'utf8')),
    stripComments(readFileSync(join(BRUNO_DIR, `${kind}.js`), 'utf8')),
  ].join('\n');
  const decls = declarations([
    ...libFiles(kind).map((f) => stripComments(readFileSync(join(LIB_DIR, f), 'utf8'))),
    stripComments(readFileSync(join(BRUNO_DIR, 'pm.js'), 'utf8')),
  ]);
  if (decls.some((d) => new RegExp(`^function ${d.name}\\s*\\(`, 'm').test(entry))) {
    throw new Error(`a sandbox library function is declared again in the Bruno ${kind} script`);
  }
  return [
    '// wxpay-notify: generated; edit the case bodies, not this script.',
    'await (async function () {',
    "'use strict';",
    ...(kind !== 'test' ? ["var CryptoJS = require('crypto-js');"] : []),
    ...constantLines(constants),
    ...reachable(decls, entry).map((d) => d.text),
    entry,
    '})();',
    '',
  ].join('\n');
}

/**
 * Every function of the given library fragments, shipped or not (e.g. decryption, which only the
 * tests use to check the signer's output inside the same code base).
 */
export function libraryScript(files: readonly string[], constants: Readonly<Record<string, unknown>> = {}): string {
  return wrap(constants, declarations(files.map((f) => stripComments(readFileSync(join(LIB_DIR, f), 'utf8')))), '');
}

const requireFromHere = createRequire(import.meta.url);

/**
 * Runs a bundled script outside Postman and returns its library functions, for tests and for Node
 * code that must apply exactly the rules the sandbox applies. Only what the sandbox offers is given,
 * plus `globals`.
 */
export function loadSandboxFunctions(
  script: string,
  globals: Readonly<Record<string, unknown>> = {},
): Record<string, (...args: any[]) => any> {
  let exported: Record<string, (...args: any[]) => any> | undefined;
  const context = vm.createContext({
    // Functions the fragments call but the script does not declare (Node's crypto in src/library).
    ...globals,
    require: (name: string) => {
      if (name === 'crypto-js') return requireFromHere('crypto-js');
      throw new Error(`the Postman sandbox does not offer require('${name}')`);
    },
    Buffer,
    console,
    wxpayNotifyExport: (fns: Record<string, (...args: any[]) => any>) => {
      exported = fns;
    },
  });
  vm.runInContext(script, context, { filename: 'wxpay-notify-sandbox.js' });
  if (!exported) throw new Error('sandbox script did not export its functions');
  return exported;
}
