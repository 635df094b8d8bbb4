import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedConfig } from '../../src/config/types.js';
import type { TestKeys } from '../../src/keys/generate-keys.js';
import { demoConfig } from '../../src/commands/demo.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { testKeys } from './suite-fixture.js';

/**
 * Launcher for test/fixtures/independent-handler/handler.py: a merchant notify handler written in
 * Python from WeChat's documentation, independently of src/receiver, with switchable realistic bugs.
 * It runs on Debian's /usr/bin/python3 because that is where python3-cryptography lives (a pyenv
 * python earlier on PATH usually lacks it).
 */
export const PYTHON = '/usr/bin/python3';
export const HANDLER_SCRIPT = join(
  dirname(fileURLToPath(import.meta.url)),
  '../fixtures/independent-handler/handler.py',
);

/** The bugs handler.py can switch on (`slow=<ms>` takes a value). handler.py refuses any other name. */
export const INDEPENDENT_HANDLER_BUGS = [
  'xml-as-json',
  'reserialize-compact',
  'reserialize-default',
  'unique-order',
  'v2-plain-text',
  'refund-key-raw',
  'v3-200-fail',
  'headers-optional',
  'no-timestamp-window',
  'cert-only',
] as const;
export type IndependentHandlerBug = (typeof INDEPENDENT_HANDLER_BUGS)[number] | `slow=${number}`;

export type TrustedKey = { serial: string; publicKeyPem: string } | { serial: string; certificatePem: string };

/** handler.py's own config file (paths default to /wxpay/v2/notify, /wxpay/v3/refund-notify, …). */
export interface IndependentHandlerConfig {
  v2?: { apiKey: string; payPath?: string; refundPath?: string };
  v3?: { apiV3Key: string; payPath?: string; refundPath?: string; trusted: TrustedKey[] };
}

export interface IndependentHandlerOptions extends IndependentHandlerConfig {
  bugs?: readonly IndependentHandlerBug[];
  /** How long to wait for `LISTENING <port>` (default 20 s: a loaded machine imports slowly). */
  startTimeoutMs?: number;
}

export interface StartedIndependentHandler {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  /** Everything the handler logged so far (one line per request). */
  log(): string;
  close(): Promise<void>;
}

let availability: string | null | undefined;

/** Why the handler cannot run here (no /usr/bin/python3, or no cryptography), or null when it can. */
export function independentHandlerUnavailableReason(): string | null {
  if (availability !== undefined) return availability;
  const probe = spawnSync(PYTHON, ['-c', 'import cryptography'], { encoding: 'utf8', timeout: 20_000 });
  availability = probe.error
    ? `${PYTHON} is not available (${probe.error.message}); install python3 and python3-cryptography`
    : probe.status !== 0
      ? `${PYTHON} has no 'cryptography' package; install python3-cryptography (apt-get install python3-cryptography)`
      : null;
  return availability;
}

export function independentHandlerAvailable(): boolean {
  return independentHandlerUnavailableReason() === null;
}

export async function startIndependentHandler(options: IndependentHandlerOptions): Promise<StartedIndependentHandler> {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-independent-handler-'));
  const configFile = join(dir, 'handler.json');
  const config: IndependentHandlerConfig = {
    ...(options.v2 && { v2: options.v2 }),
    ...(options.v3 && { v3: options.v3 }),
  };
  // The file holds TEST keys only, but still: readable by this user alone.
  writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  const args = [HANDLER_SCRIPT, '--config', configFile, '--exit-on-stdin-eof'];
  if (options.bugs?.length) args.push('--bugs', options.bugs.join(','));

  const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });

  const port = await new Promise<number>((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      cleanup();
      const reason = independentHandlerUnavailableReason();
      reject(
        new Error(
          `independent handler did not start: ${why}${reason ? `; ${reason}` : ''}${stderr ? `\nstderr:\n${stderr.trim()}` : ''}`,
        ),
      );
    };
    const timer = setTimeout(
      () => fail(`no "LISTENING <port>" within ${options.startTimeoutMs ?? 20_000} ms`),
      options.startTimeoutMs ?? 20_000,
    );
    child.once('error', (error) => fail(`${PYTHON}: ${error.message}`));
    child.once('exit', (code, signal) => fail(`it exited (${signal ?? `code ${code}`})`));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^LISTENING (\d+)\n/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(Number(match[1]));
      }
    });
  });

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => stderr,
    close: () => {
      closing ??= (async () => {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
        cleanup();
      })();
      return closing;
    },
  };
}

/**
 * handler.py's config for a wxpay-notify config: same keys, same URL paths, and a trust list with the
 * public keys that match its signers (taken from the TEST keys, which hold the public halves).
 */
export function independentHandlerConfig(config: ResolvedConfig, keys: TestKeys): IndependentHandlerConfig {
  const path = (url: string): string => new URL(url).pathname;
  const out: IndependentHandlerConfig = {};
  if (config.v2)
    out.v2 = {
      apiKey: config.v2.apiKey,
      payPath: path(config.v2.notifyUrl),
      refundPath: path(config.v2.refundNotifyUrl),
    };
  if (config.v3) {
    const trusted: TrustedKey[] = [];
    if (config.v3.platform?.serial === keys.publicKey.keyId)
      trusted.push({ serial: keys.publicKey.keyId, publicKeyPem: keys.publicKey.publicKeyPem });
    if (config.v3.platformCertificate?.serial === keys.certificate.serial)
      trusted.push({ serial: keys.certificate.serial, certificatePem: keys.certificate.certificatePem });
    out.v3 = {
      apiV3Key: config.v3.apiV3Key,
      payPath: path(config.v3.notifyUrl),
      refundPath: path(config.v3.refundNotifyUrl),
      trusted,
    };
  }
  return out;
}

export interface IndependentSuite {
  /** The demo config (both versions, both key modes) aimed at the handler. */
  config: ResolvedConfig;
  handler: StartedIndependentHandler;
  close(): Promise<void>;
}

/** The whole-suite set-up of test/support/suite-fixture.ts, with handler.py as the merchant. */
export async function startIndependentSuite(
  options: { bugs?: readonly IndependentHandlerBug[]; signType?: 'MD5' | 'HMAC-SHA256' } = {},
): Promise<IndependentSuite> {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-test-'));
  const keys = testKeys();
  // The paths do not depend on the port, so a placeholder config gives the handler its routes.
  const handler = await startIndependentHandler({
    ...independentHandlerConfig(demoConfig(keys, 'http://127.0.0.1:0', dir), keys),
    bugs: options.bugs,
  });
  const config = demoConfig(keys, handler.url, dir);
  if (options.signType) config.v2!.signType = options.signType;
  return {
    config,
    handler,
    close: async () => {
      await handler.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One whole `run` (our judge) against handler.py with `bugs` on, as a user would see it: the exit
 * code and the output in `format` (the table text, or the JSON report).
 */
export interface IndependentRun {
  code: number;
  /** The table a person reads. */
  output: string;
  /** The JSON results of the same run. */
  report: {
    cases: Array<{
      caseId: string;
      verdict: string;
      cause: string;
      hint: string;
      severity: string;
      deliveries: number;
      passed: number;
    }>;
    diagnoses: Array<{ message: string; caseIds: string[] }>;
  };
  handlerLog: string;
}

export async function runSuiteOnIndependentHandler(
  options: {
    bugs?: readonly IndependentHandlerBug[];
    only?: string[];
    signType?: 'MD5' | 'HMAC-SHA256';
    failOn?: 'advisory' | 'protocol' | 'security';
  } = {},
): Promise<IndependentRun> {
  const suite = await startIndependentSuite({ bugs: options.bugs, signType: options.signType });
  const reports = mkdtempSync(join(tmpdir(), 'wxpay-independent-report-'));
  try {
    const io = memoryIO();
    const code = await runSuite(
      suite.config,
      {
        format: 'table',
        reporters: ['json'],
        reporterDir: reports,
        insecure: false,
        only: options.only,
        failOn: options.failOn,
      },
      io,
      'independent-handler',
    );
    const report = JSON.parse(readFileSync(join(reports, `${suite.config.name}.results.json`), 'utf8'));
    return { code, output: io.stdout, report, handlerLog: suite.handler.log() };
  } finally {
    await suite.close();
    rmSync(reports, { recursive: true, force: true });
  }
}
