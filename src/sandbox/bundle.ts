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

/** Which library fragments each script needs: the test script must stay light (it runs per request). */
const LIBS: Record<ScriptKind, readonly string[]> = {
  prerequest: ['crypto.js', 'flat-xml.js', 'notify-time.js', 'build-v2.js', 'build-v3.js', 'case-spec.js'],
  test: ['flat-xml.js', 'judge.js', 'case-spec.js'],
};

function libFiles(kind: ScriptKind): readonly string[] {
  const present = new Set(readdirSync(LIB_DIR));
  const missing = LIBS[kind].filter((f) => !present.has(f));
  if (missing.length > 0) throw new Error(`sandbox library missing: ${missing.join(', ')}`);
  return LIBS[kind];
}

function exportedNames(source: string): string[] {
  return [...source.matchAll(/^function ([A-Za-z0-9_]+)\s*\(/gm)].map((m) => m[1]!);
}

/**
 * Builds the script text. `constants` are injected as `var NAME = <json>;` so the sandbox shares the
 * protocol constants and hint catalogue with the Node code instead of keeping its own copies.
 */
export function bundleScript(kind: ScriptKind, constants: Readonly<Record<string, unknown>>): string {
  const libs = libFiles(kind).map((f) => readFileSync(join(LIB_DIR, f), 'utf8').trim());
  const entry = readFileSync(join(SANDBOX_DIR, `${kind}.js`), 'utf8').trim();
  const names = libs.flatMap(exportedNames);
  // All fragments share one scope: a second declaration would silently replace the first.
  const clash = names.find((name, i) => names.indexOf(name) !== i || new RegExp(`^function ${name}\\s*\\(`, 'm').test(entry));
  if (clash) throw new Error(`sandbox function ${clash} is declared twice`);
  const constantLines = Object.keys(constants)
    .sort()
    .map((name) => `var ${name} = ${JSON.stringify(constants[name])};`);
  return [
    '// wxpay-notify: generated; edit the case bodies, not this script.',
    '(function () {',
    "'use strict';",
    // Only the signer needs crypto-js; the judge stays loadable in plain Node.
    ...(kind === 'prerequest' ? ["var CryptoJS = require('crypto-js');"] : []),
    ...constantLines,
    ...libs,
    entry,
    "if (typeof pm !== 'undefined') { main(); }",
    `else if (typeof wxpayNotifyExport === 'function') { wxpayNotifyExport({ ${names.join(', ')} }); }`,
    '})();',
    '',
  ].join('\n');
}

const requireFromHere = createRequire(import.meta.url);

/**
 * Runs a bundled script outside Postman and returns its library functions, for tests and for Node
 * code that must apply exactly the rules the sandbox applies. Only what the sandbox offers is given.
 */
export function loadSandboxFunctions(script: string): Record<string, (...args: any[]) => any> {
  let exported: Record<string, (...args: any[]) => any> | undefined;
  const context = vm.createContext({
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
