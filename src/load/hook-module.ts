import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sandboxConstants } from '../collection/sandbox-scripts.js';
import { PACKAGE_ROOT } from '../paths.js';
import { libraryScript } from '../sandbox/bundle.js';

/**
 * One self-contained CommonJS module for load engines that `require()` their hooks: autocannon's
 * worker threads (`load`) and Artillery's processor (`generate --format artillery`). It holds the
 * sandbox builders and judge, bundled from the very fragments the Postman collection ships
 * (src/sandbox/lib, as bundleScript builds the collection's scripts), with Node's crypto under them
 * (the sandbox's BigInt RSA is ~100x slower), plus the glue in src/load/runtime/*.cjs. So a load
 * run sends exactly what `run` sends, and judges answers with `run`'s rules.
 *
 * The module text holds no secret: keys are handed to `createNotifier(config)` at run time.
 *
 * Exports of the module:
 * - `createNotifier(config)` → `{ next(nowMs), again(sent, nowMs), secrets }`: distinct signed
 *   notifications (`NotifierConfig` below); `again` repeats one as WeChat does (v3 re-signed).
 * - `judgeAnswer(spec, status, body, headers, timeMs, secrets)` → `{ acknowledged, received, cause, message }`.
 * - `memoJudge(secrets)` → `judge(spec, status, body, headers, timeMs)`: judgeAnswer, reusing a case's
 *   last verdict for an identical fast answer (what the autocannon hooks call per answer).
 * - `createAutocannonHooks(options)` → `{ setupClient, setupRequest, onResponse }`.
 * - `fromWorkerData()`: the hooks of this worker, from autocannon's `workerData.opts.wxpayLoad`.
 */

/** The fragments the module bundles: the builders of the pre-request script and the test script's judge. */
const FRAGMENTS = [
  'fill-template.js',
  'flat-xml.js',
  'notify-time.js',
  'notify-amounts.js',
  'build-v2.js',
  'build-v3.js',
  'mask.js',
  'judge.js',
] as const;

/** The runtime (src/load/runtime), one job a file, in the order the module holds them. */
const RUNTIME_FILES = ['notifier.cjs', 'judge-answer.cjs', 'autocannon-hooks.cjs'].map((name) =>
  join(PACKAGE_ROOT, 'src', 'load', 'runtime', name),
);

/** One kind of notification in the mix (a genuine catalogue case as template). */
export interface MixEntry {
  version: 'v2' | 'v3';
  kind: 'pay' | 'refund';
  /** Relative share of deliveries. */
  weight: number;
  /** The notify URL it goes to. */
  url: string;
  /** The catalogue case's spec (src/collection/case-spec.ts), without its order numbers. */
  spec: Record<string, unknown>;
  /** The case's template text with `{{variables}}` (readTemplate). */
  template: string;
}

/** What `createNotifier` needs (JSON: it crosses into worker threads). */
export interface NotifierConfig {
  mix: MixEntry[];
  /** The collection variables (appid, mchid, openid, …). */
  variables: Record<string, string>;
  /** Bases for the order numbers (each notification replaces their tail) and amounts in fen. */
  order: {
    outTradeNo: string;
    transactionId: string;
    outRefundNo: string;
    refundId: string;
    total: number;
    refund: number;
  };
  /** Four digits that make this run's numbers differ from another run's. */
  runCode: string;
  callbackHeaders: Record<string, string>;
  secrets: {
    v2ApiKey?: string;
    v3ApiKey?: string;
    signers: Partial<Record<'platform' | 'certificate', { privateKeyPem: string; serial: string }>>;
  };
}

/** Options of `createAutocannonHooks` (per worker). */
export interface AutocannonHookOptions {
  notifier: NotifierConfig;
  /** BroadcastChannel name the hooks report on and listen to (`stop`). */
  channel: string;
  /** Deliveries per second this worker sends at full rate. */
  ratePerWorker: number;
  rampMs: number;
  /** How long deliveries are sent (the ramp included). */
  sendMs: number;
  timeoutMs: number;
  /** Share of orders delivered twice (0–1), and the share of those copies sent at the same instant. */
  duplicateShare: number;
  concurrentShare: number;
  /** Seconds between attempts after a failed one, already compressed; null: no retries. */
  retrySchedule: number[] | null;
  batchMs?: number;
  /** Notifications signed before the first send (burst mode); 0 signs each one as it goes out. */
  presigned: number;
  /** The Host header autocannon writes: the URL's host (port left out when it is the default). */
  host: string;
  answerChars?: number;
}

/** The Node crypto the fragments call (same names and argument order as src/sandbox/lib/crypto.js). */
const NODE_CRYPTO_SOURCE = `const nodeCrypto = require('node:crypto');
const workerThreads = require('node:worker_threads');
function aesName(key, mode) { return 'aes-' + key.length * 8 + '-' + mode; }
const NODE_CRYPTO = {
  md5Hex: (text) => nodeCrypto.createHash('md5').update(text, 'utf8').digest('hex'),
  hmacSha256Hex: (key, text) => nodeCrypto.createHmac('sha256', key).update(text, 'utf8').digest('hex'),
  aesEcbEncryptBase64: (keyText, plaintext) => {
    const key = Buffer.from(keyText, 'ascii');
    const c = nodeCrypto.createCipheriv(aesName(key, 'ecb'), key, null);
    return Buffer.concat([c.update(plaintext, 'utf8'), c.final()]).toString('base64');
  },
  aesGcmEncryptBase64: (keyText, nonceText, aadText, plaintext) => {
    const key = Buffer.from(keyText, 'utf8');
    const c = nodeCrypto.createCipheriv(aesName(key, 'gcm'), key, Buffer.from(nonceText, 'utf8'));
    c.setAAD(Buffer.from(aadText, 'utf8'));
    const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return Buffer.concat([body, c.getAuthTag()]).toString('base64');
  },
  // One-shot sign: the same PKCS#1 v1.5 bytes as createSign('RSA-SHA256'), without a stream object.
  rsaSha256SignBase64: (key, text) => nodeCrypto.sign('sha256', Buffer.from(text, 'utf8'), key).toString('base64'),
  randomAlphanumeric: (length) => {
    const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let out = '';
    for (let i = 0; i < length; i++) out += A[nodeCrypto.randomInt(A.length)];
    return out;
  },
};`;

let rendered: string | undefined;

/** The module's text (deterministic: the same for every run of one installed version). */
export function renderHookModule(): string {
  if (rendered) return rendered;
  const constants = { ...sandboxConstants('prerequest'), ...sandboxConstants('test') };
  const bundle = libraryScript(FRAGMENTS, constants);
  const names = Object.keys(NODE_CRYPTO_FUNCTIONS);
  rendered = [
    '// wxpay-notify load hooks: generated from the sandbox fragments; do not edit.',
    "'use strict';",
    NODE_CRYPTO_SOURCE,
    // The bundle declares its constants (V3, JUDGE, HINTS…) inside its own scope: the runtime
    // needs JUDGE, so it is exported alongside the functions.
    `const SANDBOX = (function (${names.join(', ')}) {`,
    '  let out;',
    '  const wxpayNotifyExport = (fns) => { out = fns; };',
    bundle,
    '  return out;',
    `})(${names.map((n) => `NODE_CRYPTO.${n}`).join(', ')});`,
    `const JUDGE = ${JSON.stringify(constants.JUDGE)};`,
    ...RUNTIME_FILES.map((path) => readFileSync(path, 'utf8')),
    `function fromWorkerData() {
  if (!fromWorkerData.hooks) fromWorkerData.hooks = createAutocannonHooks(workerThreads.workerData.opts.wxpayLoad);
  return fromWorkerData.hooks;
}`,
    'module.exports = { createNotifier, judgeAnswer, memoJudge, createAutocannonHooks, rawRequest, lowerHeaders, fromWorkerData, SANDBOX };',
    '',
  ].join('\n');
  return rendered;
}

/** Names only: the values are in NODE_CRYPTO_SOURCE. */
const NODE_CRYPTO_FUNCTIONS = {
  md5Hex: 1,
  hmacSha256Hex: 1,
  aesEcbEncryptBase64: 1,
  aesGcmEncryptBase64: 1,
  rsaSha256SignBase64: 1,
  randomAlphanumeric: 1,
} as const;

/** Where a written hook module lives, and how to remove it. */
export interface WrittenHooks {
  dir: string;
  /** The module itself. */
  modulePath: string;
  /** One file per autocannon hook (autocannon's workers require each hook from its own path). */
  setupClient: string;
  setupRequest: string;
  onResponse: string;
  remove(): void;
}

/**
 * Writes the module into a fresh private folder (mkdtemp: mode 0700, a name nobody can predict),
 * with one entry file per autocannon hook. No secret is written: workers read theirs from workerData.
 */
export function writeHookModule(): WrittenHooks {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-load-'));
  const modulePath = join(dir, 'wxpay-notify-hooks.cjs');
  writeFileSync(modulePath, renderHookModule(), { mode: 0o600 });
  const entry = (name: string): string => {
    const path = join(dir, `${name}.cjs`);
    writeFileSync(path, `module.exports = require('./wxpay-notify-hooks.cjs').fromWorkerData().${name};\n`, {
      mode: 0o600,
    });
    return path;
  };
  return {
    dir,
    modulePath,
    setupClient: entry('setupClient'),
    setupRequest: entry('setupRequest'),
    onResponse: entry('onResponse'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
