import { randomInt } from 'node:crypto';
import { CATALOGUE } from '../cases/catalogue.js';
import { caseSpec } from '../collection/case-spec.js';
import { readTemplate } from '../collection/read-template.js';
import { collectionVariables } from '../collection/variables.js';
import { UserError } from '../shared/errors.js';
import type { ResolvedConfig } from '../config/types.js';
import { CALLBACK_HEADERS } from '../protocol/constants.js';
import type { MixEntry, NotifierConfig } from './hook-module.js';

/** The kinds of notification a load run can send, each from its genuine catalogue case. */
export const MIX_KINDS = {
  'v2.pay': 'v2.pay.success',
  'v2.refund': 'v2.refund.success',
  'v3.pay': 'v3.pay.success',
  'v3.refund': 'v3.refund.success',
} as const;
export type MixKind = keyof typeof MIX_KINDS;

/** Default mix: every version the config has, four payments to one refund (a sale day). */
export function defaultMix(config: ResolvedConfig): Partial<Record<MixKind, number>> {
  const mix: Partial<Record<MixKind, number>> = {};
  if (config.v3) Object.assign(mix, { 'v3.pay': 4, 'v3.refund': 1 });
  else if (config.v2) Object.assign(mix, { 'v2.pay': 4, 'v2.refund': 1 });
  return mix;
}

/** `--mix v3.pay=4,v3.refund=1,v2.pay=2` → weights; a bare kind weighs 1. */
export function parseMix(text: string): Partial<Record<MixKind, number>> {
  const mix: Partial<Record<MixKind, number>> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, weightText] = part.split('=') as [string, string | undefined];
    if (!(name in MIX_KINDS))
      throw new UserError(
        `--mix: unknown kind "${name}"; choose from ${Object.keys(MIX_KINDS).join(', ')}, e.g. --mix v3.pay=4,v3.refund=1`,
      );
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (!Number.isFinite(weight) || weight <= 0)
      throw new UserError(`--mix: the weight of ${name} must be a number above 0, got "${weightText}"`);
    mix[name as MixKind] = weight;
  }
  if (Object.keys(mix).length === 0) throw new UserError('--mix is empty; e.g. --mix v3.pay=4,v3.refund=1');
  return mix;
}

/**
 * The notifier's config for a load run: the genuine case of each kind as template, the config's
 * identity and keys. All URLs must share one origin: the engine keeps connections to one server.
 */
export function notifierConfig(config: ResolvedConfig, mix: Partial<Record<MixKind, number>>): NotifierConfig {
  const entries: MixEntry[] = [];
  for (const [kind, weight] of Object.entries(mix) as [MixKind, number][]) {
    const def = CATALOGUE.find((c) => c.id === MIX_KINDS[kind]);
    if (!def) throw new Error(`catalogue case ${MIX_KINDS[kind]} is missing`);
    const section = def.version === 'v2' ? config.v2 : config.v3;
    if (!section)
      throw new UserError(
        `--mix ${kind}: the config has no ${def.version} section; add it or leave ${kind} out of --mix`,
      );
    const { order: _order, ...spec } = caseSpec(def, config);
    void _order;
    entries.push({
      version: def.version,
      kind: def.kind,
      weight,
      url: def.target === 'notifyUrl' ? section.notifyUrl : section.refundNotifyUrl,
      spec: spec as Record<string, unknown>,
      template: readTemplate(def.template, config),
    });
  }
  const origins = [...new Set(entries.map((e) => new URL(e.url).origin))];
  if (origins.length > 1) {
    throw new UserError(
      `the notify URLs in the mix point to ${origins.length} servers (${origins.join(', ')}); load sends to one at a time: narrow --mix to the kinds one server receives`,
    );
  }
  const variables = Object.fromEntries(collectionVariables(config).map((v) => [v.key, v.value]));
  const o = config.order;
  return {
    mix: entries,
    variables,
    order: {
      outTradeNo: o.outTradeNo,
      transactionId: o.transactionId,
      outRefundNo: o.outRefundNo,
      refundId: o.refundId,
      total: o.total,
      refund: o.refund,
    },
    runCode: String(randomInt(10_000)).padStart(4, '0'),
    callbackHeaders: { ...CALLBACK_HEADERS },
    secrets: {
      v2ApiKey: config.v2?.apiKey,
      v3ApiKey: config.v3?.apiV3Key,
      signers: {
        ...(config.v3?.platform
          ? { platform: { privateKeyPem: config.v3.platform.privateKeyPem, serial: config.v3.platform.serial } }
          : {}),
        ...(config.v3?.platformCertificate
          ? {
              certificate: {
                privateKeyPem: config.v3.platformCertificate.privateKeyPem,
                serial: config.v3.platformCertificate.serial,
              },
            }
          : {}),
      },
    },
  };
}
