import type { Mutation } from './types.js';

/**
 * The case header: each request of the collection carries its case as JSON in this disabled header
 * (visible in the Postman app, never sent). The collection writes it, the sandbox scripts read it
 * (lib/case-spec.js), and the runner reads it to join each answer to its case.
 */
export const CASE_HEADER = 'X-Wxpay-Notify-Case';

/** What the sandbox scripts need to know about one request; JSON in the case header. */
export interface CaseSpec {
  id: string;
  version: 'v2' | 'v3';
  kind: 'pay' | 'refund';
  expect: 'ack' | 'reject';
  severity: string;
  hint: string;
  /** This case's order numbers, by variable name (a data row or environment value wins). */
  order?: Record<string, string>;
  signType?: string;
  signTypeField?: boolean;
  outer?: Record<string, string>;
  event?: string;
  summary?: string;
  originalType?: string;
  associatedData?: string;
  signer?: string;
  mutate?: Mutation;
  copy?: number;
  copies?: number;
  redelivery?: { group: string; copy: number };
  concurrent?: number;
}
