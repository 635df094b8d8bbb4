import { HINTS, transportCause } from '../judge/causes.js';
import { looksLikeHtml } from '../judge/answer.js';
import type { DoctorCheck } from './types.js';
import { identifyStack, sawWithoutStatus, stackHint } from '../judge/fingerprints.js';
import { STACK_CAUSES } from '../judge/name-stack.js';

/** Pure verdicts for what the network steps saw (reachability.ts does the I/O). */

export interface TlsFacts {
  /** e.g. `TLSv1.3`. */
  protocol: string | null;
  /** Chain verification error code from OpenSSL (`authorizationError`), if any. */
  chainError?: string;
  /** Host-name mismatch from `checkServerIdentity`, if any. */
  identityError?: string;
  subject?: string;
  validFrom?: string;
  validTo?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const EXPIRY_WARNING_DAYS = 14;

function chainProblem(code: string, facts: TlsFacts): string {
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return "self-signed/untrusted certificate (自签名证书): WeChat Pay trusts only certificates from a public CA; install one (e.g. from your cloud provider or Let's Encrypt)";
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `incomplete chain: send the intermediate certificates (证书链不完整, ${code}; configure the full-chain file, e.g. fullchain.pem), or the CA is not publicly trusted`;
    case 'CERT_HAS_EXPIRED':
      return `certificate expired (证书已过期) on ${facts.validTo ?? '?'}: renew it`;
    case 'CERT_NOT_YET_VALID':
      return `certificate not valid until ${facts.validFrom ?? '?'}: check the server clock and the certificate dates`;
    default:
      return `certificate not trusted (${code}): install a certificate from a public CA with its full chain`;
  }
}

/** The TLS step's verdict. With `insecure`, problems become warnings and the checks go on. */
export function classifyTls(
  facts: TlsFacts,
  opts: { host: string; insecure: boolean; nowMs: number; timeMs: number },
): DoctorCheck {
  const problems: string[] = [];
  if (facts.chainError) problems.push(chainProblem(facts.chainError, facts));
  if (facts.identityError)
    problems.push(
      `certificate not valid for ${opts.host} (域名不匹配): ${facts.identityError}; get one that names ${opts.host}`,
    );
  const expires = facts.validTo ? Date.parse(facts.validTo) : NaN;
  if (!Number.isNaN(expires) && facts.chainError !== 'CERT_HAS_EXPIRED') {
    if (expires <= opts.nowMs) problems.push(`certificate expired (证书已过期) on ${facts.validTo}: renew it`);
  }
  const base = { rule: 'tls', timeMs: opts.timeMs, cause: 'tls' as const };
  if (problems.length > 0) {
    return opts.insecure
      ? {
          ...base,
          level: 'warning',
          message: `${problems.join('; ')} — accepted because of --insecure (test servers only: WeChat Pay would refuse this)`,
        }
      : { ...base, level: 'error', message: `${problems.join('; ')}. For a self-signed test server, add --insecure` };
  }
  const days = Math.floor((expires - opts.nowMs) / DAY_MS);
  const summary = `${facts.protocol ?? 'TLS'}, certificate for ${facts.subject ?? opts.host}, valid until ${facts.validTo ?? '?'}`;
  if (!Number.isNaN(expires) && days < EXPIRY_WARNING_DAYS) {
    return {
      ...base,
      level: 'warning',
      message: `${summary}: expires in ${days} day(s); renew it before WeChat Pay's callbacks fail`,
    };
  }
  if (facts.protocol === 'TLSv1' || facts.protocol === 'TLSv1.1') {
    return { ...base, level: 'warning', message: `${summary}: ${facts.protocol} is obsolete; enable TLS 1.2 or later` };
  }
  return { ...base, level: 'ok', message: `handshake ok: ${summary}, chain verified` };
}

/** A network error in a step, with the catalogue hint. */
export function classifyNetworkError(rule: string, error: unknown, timeMs: number, what: string): DoctorCheck {
  const err = error as { code?: string; message?: string } | undefined;
  const code = err?.code;
  let cause = transportCause(err);
  if (cause === 'timeout' && rule === 'tcp') cause = 'firewall';
  const detail =
    code && !String(err?.message).includes(code) ? `${code}: ${err?.message ?? ''}` : (err?.message ?? String(error));
  const hint =
    cause === 'transport' && (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
      ? 'No route to the host (网络不可达): check the address and the network path.'
      : (HINTS[cause as keyof typeof HINTS] ?? HINTS.transport);
  return { level: 'error', rule, timeMs, cause, message: `${what} failed (${clean(detail, 120)}). ${hint}` };
}

export interface ProbeAnswer {
  status: number;
  contentType?: string;
  location?: string;
  /** Every header, names in lower case (the stack fingerprints read WWW-Authenticate, Allow, Server…). */
  headers?: Record<string, string>;
  /** The first few KB of the body. */
  body: string;
  timeMs: number;
}

/** Printable, single-line, clipped: server-chosen text never brings control characters along. */
export function clean(text: string, max = 80): string {
  const oneLine = text
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

function htmlTitle(body: string): string | undefined {
  const match = /<title[^>]*>([^<]*)<\/title>/i.exec(body);
  return match?.[1] ? clean(match[1], 60) : undefined;
}

function isHtml(answer: ProbeAnswer): boolean {
  return /text\/html|application\/xhtml/i.test(answer.contentType ?? '') || looksLikeHtml(answer.body);
}

/** The verdict on the one probe request: a correct handler rejects junk (4xx). */
export function classifyProbe(answer: ProbeAnswer, opts: { url: string; version?: 'v2' | 'v3' }): DoctorCheck {
  const { status, timeMs } = answer;
  const check = (level: DoctorCheck['level'], message: string, cause?: DoctorCheck['cause']): DoctorCheck => ({
    level,
    rule: 'probe',
    timeMs,
    message: `answered ${status}${message}`,
    ...(cause ? { cause } : {}),
  });
  // Whose answer it is, when a fingerprint knows: a wall in front of the handler refuses every POST,
  // WeChat Pay's too, so it fails the check; a crash page is the handler's own (this was junk).
  const stack = identifyStack({
    status,
    headers: {
      ...answer.headers,
      ...(answer.contentType ? { 'content-type': answer.contentType } : {}),
      ...(answer.location ? { location: answer.location } : {}),
    },
    body: answer.body,
  });
  const saw = stack ? sawWithoutStatus(stack) : '';
  if (stack && stack.kind !== 'crash') {
    return check('error', `${saw ? ` (${saw})` : ''}: ${stackHint(stack)}`, STACK_CAUSES[stack.kind]);
  }
  if (stack) {
    return check(
      'warning',
      `${saw ? ` (${saw})` : ''} to an obvious non-notification, so the handler crashed on it: ${stackHint(stack)} A handler that crashes on bad input may crash on a genuine notification too: \`wxpay-notify run\` sends signed ones.`,
      'crash',
    );
  }
  if (status >= 300 && status < 400) {
    let target = answer.location;
    try {
      if (target) target = new URL(target, opts.url).href;
    } catch {
      /* keep it as sent */
    }
    const to = target ? ` to ${clean(target, 200)}` : ' with no Location';
    return check(
      'error',
      ` (redirect${to}): ${HINTS.redirect}${target ? ` If ${clean(target, 200)} is the handler, use it as notify_url.` : ''}`,
      'redirect',
    );
  }
  if (status === 404) return check('error', ` (not found): ${HINTS['not-found']}`, 'not-found');
  if (status === 405)
    return check('error', ` (method not allowed): ${HINTS['method-not-allowed']}`, 'method-not-allowed');
  if (isHtml(answer)) {
    const title = htmlTitle(answer.body);
    const page = `an HTML page${title ? ` titled "${title}"` : ''}`;
    // A page instead of the handler's answer: on 2xx/401/403 almost surely a WAF or login wall.
    const wall = (status >= 200 && status < 300) || status === 401 || status === 403 || status === 407;
    return check(wall ? 'error' : 'warning', ` with ${page}: ${HINTS['html-page']}`, 'html-page');
  }
  if (status === 502 || status === 503 || status === 504) {
    return check(
      'error',
      ': a proxy or gateway answered, the application behind it is down, unreachable or too slow; check that the handler runs and the proxy points at it',
      'server-error',
    );
  }
  if (status >= 500) {
    return check(
      'warning',
      " to an obvious non-notification: acceptable as a rejection, but check the handler's log for a crash (a handler that crashes on bad input may crash on a real notification); 4xx is the clearer answer",
      'server-error',
    );
  }
  if (status >= 400) {
    return check('ok', ' to an obvious non-notification: the handler rejects what it cannot verify (expected)');
  }
  if (status >= 200 && status < 300) {
    const v2Code = /<return_code>\s*(?:<!\[CDATA\[)?\s*([A-Z]+)/i.exec(answer.body)?.[1]?.toUpperCase();
    if (opts.version === 'v2' && v2Code === 'FAIL') {
      return check(
        'ok',
        ' with return_code FAIL to an obvious non-notification: the v2 handler rejects what it cannot verify (expected)',
      );
    }
    if (opts.version === 'v2' && /^\s*fail/i.test(answer.body) && !/^\s*</.test(answer.body)) {
      // Not an acknowledgement (v2 needs XML), so this is a refusal, in a shape that says the handler
      // answers plain text: its "success" would not be an acknowledgement either.
      return check(
        'warning',
        ` with plain text "${clean(answer.body, 30)}" to an obvious non-notification: it refuses, but v2 answers must be XML; a plain-text "SUCCESS" to a genuine notification would not count as received either. ${HINTS['v2-plain-text-ack']}`,
        'v2-plain-text-ack',
      );
    }
    const body = answer.body.trim() === '' ? 'an empty body' : `"${clean(answer.body, 60)}"`;
    return check('warning', ` with ${body} to an obvious non-notification: ${HINTS['acked-probe']}`, 'acked-probe');
  }
  return check(
    'warning',
    ': an unexpected status; a notify handler answers 2xx to a genuine notification and 4xx to junk',
    'transport',
  );
}
