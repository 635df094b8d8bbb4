import type { CaseSummary } from './case-verdicts.js';
import type { DeliveryResult } from './types.js';
import { TRANSPORT_CAUSES } from './causes.js';
import { answerEvidence, type AnswerEvidence } from './answer.js';
import { identifyStack, WALL_KINDS, type StackMatch } from './fingerprints.js';

/**
 * One finding about the run as a whole, grouping the failing cases it explains. It adds to their
 * own hints, never replaces them: a note may be wrong about a row, the row's own evidence is not.
 */
export interface Diagnosis {
  message: string;
  caseIds: string[];
}

const TRANSPORT = new Set<string>(TRANSPORT_CAUSES);
/** Causes that mean "the handler answered, and said no" to a genuine notification. */
const REFUSALS = new Set<string>([
  'rejected-genuine',
  'v2-return-code-fail',
  'client-error',
  'server-error',
  'xml-parsed-as-json',
  'duplicate-order',
  // Named by a stack fingerprint (src/judge/fingerprints.ts) or by the answer's words.
  'crash',
  'csrf',
  'auth-wall',
  'login-wall',
  'waf',
  'gateway',
  'body-unread',
  'v3-decrypt',
]);

/** A genuine notification (not a control of itself) that the handler should acknowledge. */
const genuine = (c: CaseSummary): boolean => c.expect === 'ack';

interface Answer {
  caseId: string;
  /** Status and the start of the body, for a person. */
  text: string;
  /** The whole body, whitespace collapsed, to compare answers. */
  body: string;
  evidence: AnswerEvidence;
  /** The stack whose answer it is, when a fingerprint knows it. */
  stack?: StackMatch;
}

/** What the handler said to a case, in one line (the first delivery that went wrong, or with `any`, the first answer). */
function answerOf(c: CaseSummary, deliveries: readonly DeliveryResult[], any = false): Answer | undefined {
  const d = deliveries.find((x) => x.caseId === c.caseId && (any || x.verdict === 'fail') && x.status !== undefined);
  if (!d) return undefined;
  const raw = d.response?.body ?? '';
  const body = raw.replace(/\s+/g, ' ').trim();
  const shown = body.length > 70 ? `${body.slice(0, 67)}...` : body;
  const headers = Object.fromEntries(Object.entries(d.response?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const stack = identifyStack({ status: d.status!, headers, body: raw });
  return {
    caseId: c.caseId,
    text: `HTTP ${d.status}${shown ? ` ${shown}` : ''}`,
    body: `${d.status} ${body}`,
    evidence: answerEvidence(raw),
    ...(stack ? { stack } : {}),
  };
}

const upperFirst = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** The stack most of these answers come from, when more than half share one. */
function commonStack(answers: readonly Answer[]): StackMatch | undefined {
  const counts = new Map<string, Answer[]>();
  for (const a of answers) if (a.stack) counts.set(a.stack.id, [...(counts.get(a.stack.id) ?? []), a]);
  const best = [...counts.values()].sort((x, y) => y.length - x.length)[0];
  return best && best.length > answers.length / 2 ? best[0]!.stack : undefined;
}

/**
 * Patterns across cases that one cause explains: nothing answers at all, or every genuine
 * notification of one API version is refused. The cause is stated only when the evidence
 * supports it; otherwise the note lists the likely causes with what tells them apart.
 */
export function diagnoseRun(cases: readonly CaseSummary[], deliveries: readonly DeliveryResult[] = []): Diagnosis[] {
  const failed = cases.filter((c) => c.verdict === 'fail');
  if (failed.length >= 2 && failed.length === cases.length) {
    const cause = failed[0]!.cause;
    if (TRANSPORT.has(cause) && failed.every((c) => c.cause === cause)) {
      return [
        {
          message: `No case got an answer (${cause}): ${failed[0]!.hint} Fix that first; every other result depends on it.`,
          caseIds: failed.map((c) => c.caseId),
        },
      ];
    }
  }
  const out: Diagnosis[] = [];
  for (const version of ['v3', 'v2'] as const) {
    const mine = cases.filter((c) => c.version === version);
    const refused = mine.filter((c) => genuine(c) && c.verdict === 'fail' && REFUSALS.has(c.cause));
    const acknowledged = mine.filter((c) => genuine(c) && c.verdict === 'pass');
    if (refused.length < 2 || refused.length < mine.filter(genuine).length / 2) continue;
    out.push(explainRefusals(version, refused, acknowledged, mine, deliveries));
  }
  return out;
}

/** What only one kind of notification needs, when the other kind gets through. */
const KIND_CAUSES: Record<'v2' | 'v3', Record<'pay' | 'refund', string>> = {
  v2: {
    refund:
      'the refund handler cannot read req_info. It is AES-256-ECB with the key = lower-case hex md5(APIv2 key) (not the APIv2 key itself), PKCS#7 padding, base64; the plaintext is a <root> XML document. Refund notifications carry no sign.',
    pay: 'the payment handler rejects the sign. Sign over every field received except sign (sorted by name, empty values left out, key=APIv2 key last), with MD5 or HMAC-SHA256 as sign_type says (or as the sign length tells).',
  },
  v3: {
    refund:
      'the refund route or its decryption is wrong. Check that the refund notify_url reaches the same verification, and decrypt with associated_data "refund" taken from resource.associated_data (payments use "transaction").',
    pay: 'the payment route or its decryption is wrong. Check that the payment notify_url reaches the same verification, and decrypt with resource.associated_data.',
  },
};

const serialOf = (d: DeliveryResult): string | undefined =>
  Object.entries(d.request?.headers ?? {}).find(([k]) => k.toLowerCase() === 'wechatpay-serial')?.[1];

/**
 * Genuine deliveries grouped by the serial they announced: when one serial is always refused and
 * another always acknowledged, the keys are the cause and the note can say which one.
 */
function serialSplit(
  mine: readonly CaseSummary[],
  deliveries: readonly DeliveryResult[],
): { refused: string[]; acknowledged: string[] } | undefined {
  const genuineIds = new Set(mine.filter(genuine).map((c) => c.caseId));
  const outcomes = new Map<string, Set<'pass' | 'refused'>>();
  for (const d of deliveries) {
    const serial = serialOf(d);
    if (!genuineIds.has(d.caseId) || !serial || d.status === undefined) continue;
    const outcome = d.verdict === 'pass' ? 'pass' : REFUSALS.has(d.cause) ? 'refused' : undefined;
    if (!outcome) continue;
    outcomes.set(serial, (outcomes.get(serial) ?? new Set()).add(outcome));
  }
  const only = (o: 'pass' | 'refused') =>
    [...outcomes].filter(([, set]) => set.size === 1 && set.has(o)).map(([serial]) => serial);
  const refused = only('refused');
  const acknowledged = only('pass');
  return refused.length > 0 && acknowledged.length > 0 ? { refused, acknowledged } : undefined;
}

function explainRefusals(
  version: 'v2' | 'v3',
  refused: readonly CaseSummary[],
  acknowledged: readonly CaseSummary[],
  mine: readonly CaseSummary[],
  deliveries: readonly DeliveryResult[],
): Diagnosis {
  const answers = refused.map((c) => answerOf(c, deliveries)).filter((a): a is Answer => a !== undefined);
  const all = mine.map((c) => answerOf(c, deliveries, true)).filter((a): a is Answer => a !== undefined);
  const caseIds = refused.map((c) => c.caseId);
  const head = `${refused.length} genuine ${version} notifications were refused${acknowledged.length ? ` (${acknowledged.length} acknowledged: ${acknowledged.map((c) => c.caseId).join(', ')})` : ' (none acknowledged)'}.`;
  const example = answers[0] ? ` The answer to ${answers[0].caseId}: ${answers[0].text}.` : '';
  const saying = (e: AnswerEvidence): Answer[] => answers.filter((a) => a.evidence === e);

  // Refunds refused while payments are acknowledged (or the reverse): the keys both share are fine,
  // so the cause is what only one kind needs.
  const kinds = new Set(refused.map((c) => c.kind));
  const otherKindAcked = acknowledged.some((c) => !kinds.has(c.kind));
  if (kinds.size === 1 && otherKindAcked) {
    const kind = [...kinds][0]!;
    const cause = KIND_CAUSES[version][kind];
    return {
      caseIds,
      message: `${head}${example} Only ${kind === 'refund' ? 'refund' : 'payment'} notifications were refused, while ${kind === 'refund' ? 'payment' : 'refund'} notifications were acknowledged, so the shared keys are right: ${cause}`,
    };
  }

  // What the forged notifications got: the same answer as the genuine ones means nothing looked at
  // either; a different one means the page is the handler's own (it told them apart).
  const forgedAnswers = mine
    .filter((c) => c.expect === 'reject')
    .map((c) => answerOf(c, deliveries, true))
    .filter((a): a is Answer => a !== undefined);
  const genuineBodies = new Set(answers.map((a) => a.body));
  const forgedDiffer = forgedAnswers.filter((a) => !genuineBodies.has(a.body));
  const forgedSame = forgedAnswers.length > 0 && forgedDiffer.length === 0;
  const stack = commonStack(answers);
  if (stack && (WALL_KINDS.has(stack.kind) || stack.kind === 'body-unread') && forgedDiffer.length === 0) {
    const everything = forgedSame
      ? `Every ${version} case, genuine or forged, got the same answer`
      : `The genuine ${version} notifications got the same answer`;
    const why =
      stack.kind === 'body-unread'
        ? upperFirst(stack.cause)
        : `The notification never reached the handler: ${stack.cause}`;
    return {
      caseIds,
      message: `${head} ${everything} from ${stack.stack} (${stack.saw}). ${why} Fix: ${stack.fix} The keys are not the problem yet: fix this first, then run again.`,
    };
  }
  if (stack?.kind === 'crash' || (stack && forgedDiffer.length > 0)) {
    const page =
      stack.kind === 'crash'
        ? `the ${stack.stack} error page (${stack.saw})`
        : `an answer shaped like ${stack.stack}'s (${stack.saw})`;
    if (forgedDiffer.length > 0) {
      const after =
        version === 'v3'
          ? 'so the crash comes after it: most likely decrypting resource.ciphertext with an APIv3 key (APIv3密钥) other than the TEST key (keys/secrets.env) or with the wrong associated_data, otherwise the code that records the order'
          : 'so the crash comes after it: for refunds most likely decrypting req_info (key = md5 of the APIv2 key), otherwise the code that records the order';
      return {
        caseIds,
        message: `${head} Genuine notifications got ${page}, while forged ones were refused differently (${forgedDiffer[0]!.caseId}: ${forgedDiffer[0]!.text}): the handler tells them apart, so this page is the handler's own, not a wall's, and the signature check passed, ${after}. The handler's log has the exception.`,
      };
    }
    return {
      caseIds,
      message: `${head} ${forgedSame ? `Every ${version} case, genuine or forged, got` : 'The genuine notifications got'} ${page}: the handler crashes${forgedSame ? ' before it tells a genuine notification from a forged one — most often while reading the body (WeChat Pay sends raw XML/JSON, not form fields) or for a missing setting' : ''}. ${stack.fix}`,
    };
  }
  if (
    version === 'v3' &&
    (saying('decrypt').length > answers.length / 2 ||
      (forgedDiffer.length > 0 &&
        saying('keys').length <= answers.length / 2 &&
        forgedDiffer.some((a) => a.evidence === 'keys')))
  ) {
    return {
      caseIds,
      message: `${head}${example} ${forgedDiffer.length > 0 ? `Forged signatures were refused differently (${forgedDiffer[0]!.caseId}: ${forgedDiffer[0]!.text}), so the signature check passes; ` : ''}the answers point at decryption: the handler decrypts resource.ciphertext with an APIv3 key (APIv3密钥) other than the TEST key, or with the wrong associated_data. Put the TEST APIv3 key from keys/secrets.env (trust-kit/README.md) in its configuration; the public key or certificate it verifies with is fine.`,
    };
  }

  if (version === 'v2' && saying('json-parse').length > answers.length / 2) {
    return {
      caseIds,
      message: `${head}${example} The answers talk about JSON: the handler parses the XML notification as JSON. Read the raw body and parse it as XML (v2 is XML, Content-Type text/xml); the APIv2 key is not the problem yet.`,
    };
  }
  if (saying('duplicate').length > answers.length / 2) {
    return {
      caseIds,
      message: `${head}${example} The answers report duplicate orders: the handler refuses an order it has seen before. Look the order up and answer success when it was already processed (幂等); each case uses its own order numbers, so this is not caused by the test data.`,
    };
  }
  if (version === 'v3') {
    const split = serialSplit(mine, deliveries);
    if (split) {
      return {
        caseIds,
        message: `${head} Every delivery signed with ${split.refused.join(', ')} was refused, while those signed with ${split.acknowledged.join(', ')} were acknowledged: the test server does not trust ${split.refused.join(', ')}. Add ${split.refused.length === 1 ? 'it' : 'them'} to its TEST trust list (trust-kit/README.md), or, if your merchant uses only the other key, generate a config for that set-up (\`wxpay-notify init --key-mode\`).`,
      };
    }
    const spaced = acknowledged.find((c) => c.diagnostic === 'reserialised-body');
    if (spaced) {
      return {
        caseIds,
        message: `${head} Only the body written with a space after every ',' and ':' was acknowledged: the handler verifies the signature over a re-serialised body (Python's json.dumps(json.loads(body)) writes exactly that), not over the raw bytes WeChat signed. Verify over the raw request body, before parsing it.`,
      };
    }
  }
  const keyWords = saying('keys').length > answers.length / 2 || saying('decrypt').length > answers.length / 2;
  const sameEverywhere =
    all.length >= 3 && new Set(all.map((a) => a.body)).size === 1 && mine.every((c) => c.verdict !== 'pass');
  if (sameEverywhere && !keyWords) {
    return {
      caseIds,
      message: `${head} Every ${version} case, genuine or forged, got the same answer (${all[0]!.text}): the handler fails before it looks at the notification (routing, body parsing, a missing setting). Its log has the reason; fix that first.`,
    };
  }
  const keysCause =
    version === 'v3'
      ? "the test server does not trust wxpay-notify's TEST keys (it verifies with the real WeChat Pay public key 微信支付公钥 or platform certificate 平台证书, or decrypts with the real APIv3 key APIv3密钥): configure its TEST environment with the values in trust-kit/README.md"
      : "the test server's APIv2 key (APIv2密钥) is not wxpay-notify's TEST key: put the key from keys/secrets.env (trust-kit/README.md) in its TEST configuration";
  const reserialised =
    version === 'v3'
      ? 'it verifies over a re-serialised body (e.g. json.dumps(json.loads(body)) or JSON.stringify(JSON.parse(body))) instead of the raw bytes: then v3.robust.spaced-separators or v3.pay.success would pass while the other fails'
      : 'it parses the body as something other than XML, or signs over a fixed field list: its answers would then name a parse error or a field';
  const forged = mine.filter((c) => c.expect === 'reject');
  const forgedNote = forged.length
    ? forged.every((c) => c.verdict !== 'fail')
      ? ' Forged cases were all refused too, so they prove nothing yet (inconclusive).'
      : ''
    : '';
  if (version === 'v2' && sameEverywhere) {
    // A handler that reads $_POST / getParameter / a JSON-parsed body sees no fields at all, and a
    // wrong APIv2 key refuses everything too: only what the handler received tells them apart.
    return {
      caseIds,
      message: `${head}${example} Every v2 case, genuine or forged, got this same answer, so the handler refuses before it can tell them apart. Likely causes, most likely first: (1) it never sees the XML body — it reads form fields (PHP $_POST, Java getParameter) or a JSON-parsed body; read the raw body (php://input, getInputStream, express.text()) — (2) ${keysCause}. Log the length of the body the handler received: 0 or no fields means (1).`,
    };
  }
  if (keyWords) {
    const same = sameEverywhere
      ? ' Every case got this same answer, so the handler may also fail before it checks anything.'
      : '';
    return {
      caseIds,
      message: `${head}${example} The answers name the signature or keys, so most likely ${keysCause}. If those values are already in place, ${reserialised}.${same}${forgedNote}`,
    };
  }
  return {
    caseIds,
    message: `${head}${example} Likely causes, most likely first: (1) ${keysCause} — answers would mention the signature, serial or key; (2) ${reserialised}; (3) the handler fails before it reads the notification — every case would get the same answer. Check the handler's log for the reason it gave.${forgedNote}`,
  };
}
