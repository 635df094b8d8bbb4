import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { sandboxScripts } from '../../src/collection/sandbox-scripts.js';
import {
  perRequestMs,
  plainCollection,
  runTimed,
  scriptEvent,
  type BenchContext,
  type MeasureResult,
} from './harness.js';
import { infoRow, metFrom } from './render-bench.js';
import { signInputs, signInputsEnvironment, type SignInputs } from './sign-inputs.js';
import { formatBytes, formatMs, formatRatio, median } from './stats.js';

export const FORGE_TARGET = 10;

/** node-forge's browser bundle, from the copy newman itself depends on (comparison only). */
export function forgeBundlePath(): string {
  const fromHere = createRequire(import.meta.url);
  const fromNewman = createRequire(fromHere.resolve('newman/package.json'));
  return join(dirname(fromNewman.resolve('node-forge/package.json')), 'dist', 'forge.min.js');
}

const READ_INPUTS = [
  "var pem = pm.variables.get('bench_pem'), message = pm.variables.get('bench_message');",
  "var aesKey = pm.variables.get('bench_key'), nonce = pm.variables.get('bench_nonce'), aad = pm.variables.get('bench_aad'), plaintext = pm.variables.get('bench_plaintext');",
];
const REPORT =
  'pm.request.body.update(JSON.stringify({ signature: signature, ciphertext: ciphertext, ms: Date.now() - t0 }));';

/**
 * Ours: the library functions of the generated pre-request bundle, byte for byte. With `pm` shadowed
 * the bundle does not run its main() but hands its functions to wxpayNotifyExport instead.
 */
export function ourScript(): string {
  return [
    'var lib = null;',
    'var wxpayNotifyExport = function (fns) { lib = fns; };',
    '(function (pm) {',
    sandboxScripts().prerequest,
    '})(undefined);',
    ...READ_INPUTS,
    'var t0 = Date.now();',
    'var signature = lib.rsaSha256SignBase64(lib.parseRsaPrivateKeyPem(pem), message);',
    'var ciphertext = lib.aesGcmEncryptBase64(aesKey, nonce, aad, plaintext);',
    REPORT,
  ].join('\n');
}

/**
 * node-forge inlined, as WeChat's own Postman script does. The sandbox has no window, self or
 * globalThis, so the UMD wrapper gets a local `window` to attach to (module/exports/define hidden).
 */
export function forgeScript(): string {
  const source = readFileSync(forgeBundlePath(), 'utf8').replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '');
  return [
    'var forge = (function () { var window = {}; var self, module, exports, define;',
    source,
    'return window.forge; })();',
    ...READ_INPUTS,
    'var t0 = Date.now();',
    'var md = forge.md.sha256.create(); md.update(message, "utf8");',
    'var signature = forge.util.encode64(forge.pki.privateKeyFromPem(pem).sign(md));',
    "var cipher = forge.cipher.createCipher('AES-GCM', forge.util.createBuffer(aesKey, 'utf8'));",
    'cipher.start({ iv: forge.util.createBuffer(nonce, "utf8"), additionalData: forge.util.encodeUtf8(aad), tagLength: 128 });',
    "cipher.update(forge.util.createBuffer(plaintext, 'utf8')); cipher.finish();",
    'var ciphertext = forge.util.encode64(cipher.output.getBytes() + cipher.mode.tag.getBytes());',
    REPORT,
  ].join('\n');
}

interface Reported {
  signature: string;
  ciphertext: string;
  ms: number;
}

function checkOutputs(name: string, bodies: readonly string[], inputs: SignInputs): number[] {
  if (bodies.length === 0) throw new Error(`${name}: no request reached the server`);
  return bodies.map((body) => {
    const r = JSON.parse(body) as Reported;
    if (r.signature !== inputs.expected.signature || r.ciphertext !== inputs.expected.ciphertext) {
      throw new Error(`${name}: the sandbox output differs from node:crypto; the comparison would be meaningless`);
    }
    return r.ms;
  });
}

export async function measureForge(ctx: BenchContext): Promise<MeasureResult> {
  const inputs = signInputs(ctx);
  const environment = signInputsEnvironment(inputs);
  const count = ctx.quick ? 8 : 50;
  const item = (body: string): Record<string, unknown> => ({
    name: 'sign',
    request: {
      method: 'POST',
      url: `${ctx.trivial.url}/bench`,
      header: [{ key: 'Content-Type', value: 'application/json' }],
      body: { mode: 'raw', raw: body },
    },
  });
  const same = JSON.stringify({ signature: inputs.expected.signature, ciphertext: inputs.expected.ciphertext, ms: 0 });
  const scripts = { ours: ourScript(), forge: forgeScript() };
  const variants: Record<string, Record<string, unknown>> = {
    none: plainCollection('bench: no script', [item(same)]),
    ours: plainCollection('bench: sandbox signer', [item('')], [scriptEvent('prerequest', scripts.ours)]),
    forge: plainCollection('bench: node-forge', [item('')], [scriptEvent('prerequest', scripts.forge)]),
  };
  const perRequest: Record<string, number> = {};
  const inScript: Record<string, number> = {};
  for (const [name, collection] of Object.entries(variants)) {
    await runTimed({ collection, environment, iterationCount: 3 }); // warm-up
    ctx.trivial.bodies.length = 0;
    const run = await runTimed({ collection, environment, iterationCount: count });
    if (run.transportErrors > 0 || run.requests !== count)
      throw new Error(`${name}: ${run.requests}/${count} requests sent, ${run.transportErrors} failed`);
    perRequest[name] = perRequestMs(run);
    if (name !== 'none') inScript[name] = median(checkOutputs(name, ctx.trivial.bodies, inputs));
    ctx.trivial.bodies.length = 0;
  }
  const added = { ours: perRequest.ours! - perRequest.none!, forge: perRequest.forge! - perRequest.none! };
  const ratio = added.forge / added.ours;
  return {
    rows: [
      {
        metric: '2. RSA-2048 sign + AES-GCM in the sandbox: node-forge ÷ ours, added per request',
        value: `${formatRatio(ratio)} faster (+${formatMs(added.ours)} vs +${formatMs(added.forge)})`,
        target: `≥ ${FORGE_TARGET}× faster`,
        met: metFrom(ratio >= FORGE_TARGET),
      },
      infoRow(
        '2. … whole request (no script / ours / forge)',
        `${formatMs(perRequest.none!)} / ${formatMs(perRequest.ours!)} / ${formatMs(perRequest.forge!)} (${formatRatio(perRequest.forge! / perRequest.ours!)})`,
      ),
      infoRow(
        '2. … crypto calls only, timed inside the script (ours / forge)',
        `${formatMs(inScript.ours!)} / ${formatMs(inScript.forge!)} (${formatRatio(inScript.forge! / inScript.ours!)})`,
      ),
      infoRow(
        '2. … script size (ours / forge)',
        `${formatBytes(Buffer.byteLength(scripts.ours))} / ${formatBytes(Buffer.byteLength(scripts.forge))}`,
      ),
    ],
    notes: [
      `Three one-item collections, each sent ${count} times (after 3 warm-up requests) to the trivial 204 server: no script; a pre-request script with our sandbox signer ` +
        "(the library functions of the generated pre-request bundle, byte for byte); a pre-request script with node-forge's browser bundle inlined " +
        `(node-forge ${forgeVersion()}, the copy newman depends on; the sandbox has no window/self/globalThis, so the UMD wrapper is given a local \`var window = {}\`).`,
      "Each script does one notification's crypto from environment variables: parse the PKCS#8 PEM key, RSA-2048 PKCS#1 v1.5 SHA-256 signature over a real-sized " +
        '"timestamp\\nnonce\\nbody\\n" message, AES-256-GCM over a real TRANSACTION.SUCCESS resource. Both send their outputs as the body, and the bench checks every one ' +
        "is byte-identical to node:crypto's before timing counts (the no-script request sends the same bytes literally).",
      'Target row: per-request time minus the no-script time (what the script adds, including compiling the script on every request, which is part of the inline approach). ' +
        'The in-script figure is Date.now() around the crypto calls only (1 ms resolution), without the compile.',
    ],
  };
}

function forgeVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(join(dirname(dirname(forgeBundlePath())), 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return '?';
  }
}
