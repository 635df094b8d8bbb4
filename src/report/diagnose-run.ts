import type { CaseSummary } from './summarize.js';
import { TRANSPORT_CAUSES } from '../cases/hints.js';

/** One finding about the run as a whole, that explains many failing cases at once. */
export interface Diagnosis {
  message: string;
  /** The cases this explains: the table points at the note instead of repeating a hint. */
  caseIds: string[];
}

const REJECTIONS = new Set(['rejected-genuine', 'v2-return-code-fail', 'client-error']);
const TRANSPORT = new Set<string>(TRANSPORT_CAUSES);

function version(c: CaseSummary): 'v2' | 'v3' {
  // A manual refund (v3.refund.manual-xml) is v2-signed; its id says v3 but its keys are v2's.
  return c.caseId.startsWith('v2.') || c.caseId === 'v3.refund.manual-xml' ? 'v2' : 'v3';
}

/**
 * Patterns that one cause explains better than twenty red lines: a test server that trusts the
 * real WeChat Pay keys instead of the test keys, or a receiver that is not reachable at all.
 */
export function diagnoseRun(cases: readonly CaseSummary[]): Diagnosis[] {
  const out: Diagnosis[] = [];
  const failed = cases.filter((c) => c.verdict === 'fail');
  if (failed.length >= 2 && failed.length === cases.length) {
    const cause = failed[0]!.cause;
    if (TRANSPORT.has(cause) && failed.every((c) => c.cause === cause)) {
      out.push({ message: `No case got an answer (${cause}): ${failed[0]!.hint} Fix that first; every other result depends on it.`, caseIds: failed.map((c) => c.caseId) });
      return out;
    }
  }
  for (const v of ['v3', 'v2'] as const) {
    const genuine = cases.filter((c) => c.expect === 'ack' && version(c) === v);
    if (genuine.length < 2 || !genuine.every((c) => c.verdict === 'fail' && REJECTIONS.has(c.cause))) continue;
    const message =
      v === 'v3'
        ? `Every genuine v3 notification was rejected (${genuine.length} cases): the test server does not trust wxpay-notify's TEST keys. It probably verifies with the real WeChat Pay platform certificate or public key (微信支付公钥), or decrypts with the real APIv3 key (APIv3密钥). Configure the merchant's TEST environment with the values in trust-kit/README.md (public key ID, certificate serial, APIv3 key), then run again.`
        : `Every genuine v2 notification was rejected (${genuine.length} cases): the test server's APIv2 key (APIv2密钥) is not wxpay-notify's TEST key. Put the key from keys/secrets.env (trust-kit/README.md) in the merchant's TEST configuration, then run again.`;
    out.push({ message, caseIds: genuine.map((c) => c.caseId) });
  }
  return out;
}
