import type { ResolvedConfig } from '../config/types.js';
import type { CaseDefinition } from '../cases/types.js';
import { V3_EVENTS } from '../protocol/constants.js';
import type { CaseSpec } from '../cases/case-header.js';
import { caseOrder } from './case-order.js';

/** v2 refund outer fields: the identity of whoever the refund belongs to (partner: service provider). */
function v2RefundOuter(config: ResolvedConfig): Record<string, string> {
  const outer: Record<string, string> = { appid: '{{appid}}', mch_id: '{{mchid}}' };
  if (config.partner) {
    Object.assign(outer, {
      appid: '{{sp_appid}}',
      mch_id: '{{sp_mchid}}',
      sub_appid: '{{sub_appid}}',
      sub_mch_id: '{{sub_mchid}}',
    });
  }
  return outer;
}

/**
 * A case signed by "the" signer uses the public key when one is configured, else the certificate:
 * a certificate-only merchant gets every case signed the way its WeChat callbacks are.
 */
function signerFor(def: CaseDefinition, config: ResolvedConfig): string {
  const signer = def.signer ?? 'platform';
  return signer === 'platform' && !config.v3?.platform ? 'certificate' : signer;
}

/** What every case's spec holds whatever the config: all the judge reads. */
export function baseSpec(def: CaseDefinition): CaseSpec {
  return {
    id: def.id,
    version: def.version,
    kind: def.kind,
    expect: def.expect,
    severity: def.severity,
    hint: def.hint,
  };
}

export function caseSpec(def: CaseDefinition, config: ResolvedConfig, copy = 1): CaseSpec {
  const spec: CaseSpec = { ...baseSpec(def), order: caseOrder(config.order, def) };
  if (def.version === 'v2') {
    const configured = config.v2?.signType ?? 'MD5';
    spec.signType = def.signType === 'config' || def.signType === undefined ? configured : def.signType;
    // As captured (templates/EVIDENCE.md): neither MD5 nor HMAC-SHA256 notifications carry sign_type.
    spec.signTypeField = def.signTypeField === 'config' || def.signTypeField === undefined ? false : def.signTypeField;
    if (def.kind === 'refund') spec.outer = v2RefundOuter(config);
  } else {
    const event = def.event ?? 'TRANSACTION.SUCCESS';
    const facts = V3_EVENTS[event];
    Object.assign(spec, {
      event,
      summary: def.summary ?? facts.summary,
      originalType: facts.originalType,
      associatedData: facts.associatedData,
      signer: signerFor(def, config),
    });
  }
  if (def.mutate) spec.mutate = def.mutate;
  if (def.concurrent) spec.concurrent = def.concurrent;
  const copies = def.copies ?? 1;
  if (copies > 1) {
    spec.copy = copy;
    spec.copies = copies;
    if (def.sameNotification) spec.redelivery = { group: def.id, copy };
  }
  return spec;
}
