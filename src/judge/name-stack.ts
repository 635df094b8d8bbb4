import type { Cause } from './causes.js';
import { identifyStack, stackRowHint, WALL_KINDS, type StackKind, type StackMatch } from './fingerprints.js';

/**
 * Names the stack behind an answer the judge could only call by its shape (an HTML page, a 4xx, a
 * 5xx, JSON to a v2 notification…). Runs in Node after the bundled judge: the sandbox script stays
 * small, and the fingerprints stay in one table.
 */

/** The cause a row shows for each kind of stack. */
export const STACK_CAUSES: Record<StackKind, Cause> = {
  csrf: 'csrf',
  auth: 'auth-wall',
  login: 'login-wall',
  method: 'method-not-allowed',
  'body-unread': 'body-unread',
  crash: 'crash',
  waf: 'waf',
  gateway: 'gateway',
};

/**
 * Causes that describe only the answer's shape, which a stack's fingerprint may name better. The
 * others stay: a parser or duplicate error named by the answer's words, a 5xx on a repeated copy
 * (not idempotent), an https or trailing-slash redirect, the clock.
 */
const SHAPE_CAUSES = new Set<string>([
  'html-page',
  'client-error',
  'server-error',
  'rejected-genuine',
  'method-not-allowed',
  'redirect',
  'v2-return-code-fail',
  'v2-json-ack',
  'v2-plain-text-ack',
  'v2-bad-xml',
  'v3-other-2xx',
  'acked-forged',
  'not-found',
]);

export interface AnswerForStack {
  code: number;
  headers: Readonly<Record<string, string>>;
  body: string;
}

export interface StackVerdict {
  match: StackMatch;
  cause: Cause;
  /** The row's message: what WeChat expects, what came back, whose answer it is and the fix. */
  message: string;
}

/**
 * The stack that answered a delivery the judge failed with a shape cause, or undefined. A forgery
 * "acknowledged" with HTTP 200 by a wall (Sa-Token's {"code":401} in a 200) is the wall's doing too.
 */
export function nameStack(cause: string, answer: AnswerForStack, expectation: string): StackVerdict | undefined {
  if (!SHAPE_CAUSES.has(cause)) return undefined;
  const match = identifyStack({ status: answer.code, headers: answer.headers, body: answer.body });
  if (!match) return undefined;
  if (cause === 'acked-forged' && !WALL_KINDS.has(match.kind) && match.kind !== 'body-unread') return undefined;
  return {
    match,
    cause: STACK_CAUSES[match.kind],
    message: `expected ${expectation}, got ${match.saw}. ${stackRowHint(match)}`,
  };
}

/**
 * A 2xx that WeChat counts as received but whose body is a wall's refusal (HTTP 200 wrapping
 * {"code":401,"msg":"未能读取到有效 token"}): the handler never saw the notification, so the
 * acknowledgement is hollow and real notifications would be lost without a retry.
 */
export function hollowAcknowledgement(answer: AnswerForStack, expectation: string): StackVerdict | undefined {
  if (answer.code < 200 || answer.code >= 300) return undefined;
  const match = identifyStack({ status: answer.code, headers: answer.headers, body: answer.body });
  if (!match || (!WALL_KINDS.has(match.kind) && match.kind !== 'body-unread')) return undefined;
  return {
    match,
    cause: STACK_CAUSES[match.kind],
    message: `expected ${expectation} from the handler, got ${match.saw}: WeChat Pay counts HTTP ${answer.code} as received and will not retry, but the handler never saw the notification. ${stackRowHint(match)}`,
  };
}

/**
 * The bundled judge's checks with the acknowledgement check named by its stack, where one answered:
 * for callers that judge one answer outside a run (the library's `judge`). The clock check stays.
 */
export function withStackNamed<C extends { name: string; pass: boolean; cause: string; message: string }>(
  spec: { expect: 'ack' | 'reject'; version: 'v2' | 'v3' },
  answer: AnswerForStack,
  checks: readonly C[],
  expectation: string,
): C[] {
  return checks.map((c, i) => {
    if (i === 0) return c;
    const named = c.pass
      ? spec.expect === 'ack'
        ? hollowAcknowledgement(answer, expectation)
        : undefined
      : nameStack(c.cause, answer, expectation);
    return named ? { ...c, pass: false, cause: named.cause, message: named.message } : c;
  });
}
