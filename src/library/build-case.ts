import { createPrivateKey, randomBytes } from 'node:crypto';
import { CATALOGUE } from '../cases/catalogue.js';
import { configNeeds } from '../cases/render-case-table.js';
import { selectCases } from '../cases/select-cases.js';
import type { CaseDefinition, Expectation, Severity } from '../cases/types.js';
import { readTemplate } from '../collection/read-template.js';
import type { CaseSpec } from '../cases/case-header.js';
import { caseSpec } from '../collection/case-spec.js';
import { collectionVariables } from '../collection/variables.js';
import type { ResolvedConfig } from '../config/types.js';
import { randomString } from '../keys/generate-keys.js';
import { CONTENT_TYPES } from '../protocol/constants.js';
import { resolveConfig, type NotifyConfig } from './library-config.js';
import { asSent, type Notification } from './notifications.js';
import { sandboxBuilders, type SandboxSigner, type V3BuildInputs } from './sandbox-builders.js';

/** A catalogue case, as the README's case table describes it. */
export interface CaseInfo {
  /** Stable id, e.g. `v3.forged.stale-timestamp`. */
  id: string;
  title: string;
  /** The wire format sent (v3.refund.manual-xml is v2 XML sent to the v3 refund URL). */
  version: 'v2' | 'v3';
  kind: 'pay' | 'refund';
  /** What a correct merchant does: acknowledge it, or reject it. */
  expect: Expectation;
  severity: Severity;
  /** Shown when the case fails the way it was built to expose. */
  hint: string;
  /** What a config needs for this case, e.g. `v3 certificate signer`. */
  needs: string;
}

/** A case ready to send: every delivery signed and encrypted now. */
export interface BuiltCase extends CaseInfo {
  /** The configured notify URL it goes to, and that URL's path (with any query), for supertest. */
  url: string;
  path: string;
  /** In sending order. Send each as POST `path` with its headers and body, and judge every answer. */
  deliveries: Notification[];
  /**
   * How many of the first deliveries go out at the same instant (WeChat delivers from several
   * servers at once); the rest follow one after another. 0: all one after another.
   */
  concurrent: number;
}

export interface BuildCaseOptions {
  /** The sending time in ms since the epoch (timestamps, time fields); default now. */
  now?: number;
}

function info(def: CaseDefinition): CaseInfo {
  return {
    id: def.id,
    title: def.title,
    version: def.version,
    kind: def.kind,
    expect: def.expect,
    severity: def.severity,
    hint: def.hint,
    needs: configNeeds(def),
  };
}

/** The catalogue's cases, or those a config can send (in catalogue order). */
export function listCases(config?: NotifyConfig | ResolvedConfig): CaseInfo[] {
  return (config === undefined ? CATALOGUE : selectCases(resolveConfig(config))).map(info);
}

export function findCase(caseId: string): CaseDefinition {
  const def = CATALOGUE.find((c) => c.id === caseId);
  if (!def)
    throw new TypeError(
      `unknown case id ${JSON.stringify(caseId)}; the case ids are: ${CATALOGUE.map((c) => c.id).join(', ')}`,
    );
  return def;
}

/**
 * One catalogue case built the way the generated collection's pre-request script builds it (the
 * same sandbox code, over Node's crypto): from the case's template filled with the config's order,
 * signed, encrypted and mutated (forged) as the case says.
 */
export function buildCase(
  caseId: string,
  config: NotifyConfig | ResolvedConfig,
  options: BuildCaseOptions = {},
): BuiltCase {
  const def = findCase(caseId);
  const resolved = resolveConfig(config);
  if (!selectCases(resolved).includes(def)) {
    throw new TypeError(
      `case ${caseId} needs ${configNeeds(def)} in the config (listCases(config) gives the cases this config can send)`,
    );
  }
  const nowMs = options.now ?? Date.now();
  const builders = sandboxBuilders();
  // As the pre-request script fills them: the case's own order numbers, the sending time, a nonce,
  // and the coupon split of the total.
  const variables: Record<string, string> = {
    ...Object.fromEntries(collectionVariables(resolved).map((v) => [v.key, v.value])),
    ...caseSpec(def, resolved).order,
    ...builders.notifyTimeVariables(nowMs),
    // As the pre-request script makes it: 32 lower-case hex digits, as in captured v2 notifications.
    wxpay_nonce_str: randomBytes(16).toString('hex'),
  };
  const amounts = builders.notifyAmountVariables(variables.total ?? '');
  if (def.coupon && amounts.error) throw new TypeError(`case ${caseId}: ${amounts.error}`);
  Object.assign(variables, amounts.variables ?? {});
  const raw = fillVariables(
    readTemplate(def.template, resolved),
    variables,
    caseId,
    def.version === 'v2' ? 'xml' : 'json',
  );
  const url = def.target === 'notifyUrl' ? section(def, resolved).notifyUrl : section(def, resolved).refundNotifyUrl;

  const deliveries: Notification[] = [];
  const copies = def.copies ?? 1;
  let memo: string | null = null;
  for (let copy = 1; copy <= copies; copy++) {
    const spec = caseSpec(def, resolved, copy);
    const repeat = spec.redelivery && copy > 1 ? memo : null;
    const built = buildDelivery(spec, raw, resolved, variables, nowMs, repeat);
    if (spec.redelivery && copy === 1) memo = built.memo;
    if (def.concurrent) {
      // As the pre-request script does: the extra copies repeat this notification and go out first.
      for (let i = 0; i < def.concurrent; i++)
        deliveries.push(buildDelivery(spec, raw, resolved, variables, nowMs, built.memo).notification);
    }
    deliveries.push(built.notification);
  }
  const parsed = new URL(url);
  return { ...info(def), url, path: parsed.pathname + parsed.search, deliveries, concurrent: def.concurrent ?? 0 };
}

function section(def: CaseDefinition, config: ResolvedConfig): { notifyUrl: string; refundNotifyUrl: string } {
  const version = def.sendTo ?? def.version;
  const urls = version === 'v2' ? config.v2 : config.v3;
  if (!urls) throw new TypeError(`case ${def.id} is sent to the ${version} URLs, which the config does not have`);
  return urls;
}

/** The pre-request script's substitution: one pass, values raw and encoded for where they stand. */
function fillVariables(
  text: string,
  variables: Readonly<Record<string, string>>,
  caseId: string,
  format: 'json' | 'xml' | 'text',
): string {
  return sandboxBuilders().fillTemplate(text, format, (name) => {
    if (!Object.hasOwn(variables, name)) throw new Error(`case ${caseId}: template variable "${name}" has no value`);
    return variables[name]!;
  });
}

/** One delivery, as the pre-request script's buildDelivery makes it; `memo` is what a repeat repeats. */
function buildDelivery(
  spec: CaseSpec,
  raw: string,
  config: ResolvedConfig,
  variables: Readonly<Record<string, string>>,
  nowMs: number,
  memo: string | null,
): { notification: Notification; memo: string } {
  const builders = sandboxBuilders();
  if (spec.version === 'v2') {
    // A v2 redelivery is the same body again: v2 notifications carry no timestamp to re-sign.
    if (memo)
      return {
        notification: asSent({ body: memo, headers: { 'Content-Type': CONTENT_TYPES.v2 }, removeHeaders: [] }),
        memo,
      };
    const apiKey = config.v2?.apiKey ?? '';
    const outer = Object.fromEntries(
      Object.entries(spec.outer ?? {}).map(([k, v]) => [k, fillVariables(v, variables, spec.id, 'text')]),
    );
    const delivery = builders.buildV2Delivery(spec, raw, apiKey, outer, variables.wxpay_nonce_str!);
    return { notification: asSent(delivery), memo: delivery.body };
  }
  const v3 = config.v3!;
  const inputs: V3BuildInputs = {
    apiV3Key: v3.apiV3Key,
    signers: signers(spec, config),
    nowMs,
    nonce: randomString(32),
    resourceNonce: randomString(12),
    random: Math.random,
  };
  const delivery = builders.buildV3Delivery(
    spec,
    raw,
    inputs,
    memo ? (JSON.parse(memo) as Record<string, unknown>) : null,
  );
  return { notification: asSent(delivery), memo: JSON.stringify(delivery.envelope) };
}

/** The signers a case may use: its own, or every configured one when it picks at random. */
function signers(spec: CaseSpec, config: ResolvedConfig): V3BuildInputs['signers'] {
  const v3 = config.v3!;
  const configured: Record<'platform' | 'certificate', { privateKeyPem: string; serial: string } | undefined> = {
    platform: v3.platform,
    certificate: v3.platformCertificate,
  };
  const out: Partial<Record<'platform' | 'certificate', SandboxSigner>> = {};
  for (const name of ['platform', 'certificate'] as const) {
    const signer = configured[name];
    if (signer && (spec.signer === name || spec.signer === 'random'))
      out[name] = { key: createPrivateKey(signer.privateKeyPem), serial: signer.serial };
  }
  return out;
}
