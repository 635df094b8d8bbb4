import { baseSpec } from '../collection/case-spec.js';
import { expectationText, judgeAnswer, type JudgeCheck } from '../judge/answer.js';
import { withStackNamed } from '../judge/name-stack.js';
import { redactRun } from '../shared/redact.js';
import { findCase } from './build-case.js';
import { resolveConfig, type NotifyConfig } from './library-config.js';
import { secretValues } from '../collection/variables.js';
import type { ResolvedConfig } from '../config/types.js';

/**
 * A merchant's answer, in the shapes test tools give it: supertest/superagent (`status`, `text`,
 * `headers`), fetch-like or Node `http` (`statusCode`), or plain `{ code, body }`.
 */
export interface AnswerLike {
  status?: number;
  statusCode?: number;
  code?: number;
  /** The body as text (supertest's `text`); or `body` when it is a string or a Buffer. */
  text?: string;
  body?: unknown;
  headers?: Record<string, string | string[] | number | undefined>;
  /** How long the answer took; default 0 (the 5 s check then passes). */
  timeMs?: number;
}

export interface Verdict {
  caseId: string;
  /** Every check passed. */
  pass: boolean;
  /** Why the first failing check failed (a key of the hint catalogue, e.g. `acked-forged`); `ok` on a pass. */
  cause: string;
  /** The checks the Postman test script makes of this answer, with the same names and messages. */
  checks: JudgeCheck[];
  /** The failing checks' messages (what WeChat expects, what came back, the likely fix); '' on a pass. */
  message: string;
}

export type { JudgeCheck };

/**
 * Judges one answer to one delivery of a case with the Postman test script's own rules (the same
 * bundled judge the CLI uses): is it an acknowledgement WeChat accepts, or the rejection a forged
 * notification deserves, within 5 s.
 *
 * Secrets: the messages quote the answer, and a merchant's handler may echo what it was sent.
 * Given `config` (the one the notification was built with), every secret it holds (the API keys and
 * private keys, raw and JSON-, XML- or URL-escaped) is masked in `checks` and `message`. Without it
 * the judge cannot know what is secret and quotes the answer as it came.
 */
export function judge(caseId: string, answer: AnswerLike, config?: NotifyConfig | ResolvedConfig): Verdict {
  const def = findCase(caseId);
  if (typeof answer !== 'object' || answer === null) {
    throw new TypeError(
      `judge(${JSON.stringify(caseId)}, answer): the answer must be the merchant's response as an object with its HTTP status (status, statusCode or code) and body (text or body), e.g. what supertest returns; got ${answer === null ? 'null' : typeof answer}`,
    );
  }
  const code = answer.status ?? answer.statusCode ?? answer.code;
  if (typeof code !== 'number') throw new TypeError('the answer has no HTTP status (status, statusCode or code)');
  const secrets = config === undefined ? [] : secretValues(resolveConfig(config));
  const spec = baseSpec(def);
  const judged = {
    code,
    body: bodyText(answer),
    headers: lowerCaseHeaders(answer.headers),
    timeMs: answer.timeMs ?? 0,
  };
  // The stack in front of the handler (CSRF, a login wall, a WAF…) is named as `run` names it.
  // The stack's words quote the answer too: masked like the judge's own quotes.
  const checks = redactRun(
    withStackNamed(spec, judged, judgeAnswer(spec, judged, secrets), expectationText(spec)),
    secrets,
  );
  const failed = checks.filter((c) => !c.pass);
  return {
    caseId,
    pass: failed.length === 0,
    cause: failed[0]?.cause ?? 'ok',
    checks,
    message: failed.map((c) => `${c.name}: ${c.message}`).join('\n'),
  };
}

function bodyText(answer: AnswerLike): string {
  if (typeof answer.text === 'string') return answer.text;
  if (typeof answer.body === 'string') return answer.body;
  if (Buffer.isBuffer(answer.body)) return answer.body.toString('utf8');
  if (answer.body === undefined || answer.body === null) return '';
  // A parsed body (supertest without `text`): judge its JSON form.
  return typeof answer.body === 'object' && Object.keys(answer.body).length === 0 ? '' : JSON.stringify(answer.body);
}

function lowerCaseHeaders(headers: AnswerLike['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}
