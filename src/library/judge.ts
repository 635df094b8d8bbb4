import { baseSpec } from '../collection/case-spec.js';
import { judgeAnswer, type JudgeCheck } from '../judge/answer.js';
import { findCase } from './build-case.js';

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
 */
export function judge(caseId: string, answer: AnswerLike): Verdict {
  const def = findCase(caseId);
  const code = answer.status ?? answer.statusCode ?? answer.code;
  if (typeof code !== 'number') throw new TypeError('the answer has no HTTP status (status, statusCode or code)');
  const checks = judgeAnswer(baseSpec(def), { code, body: bodyText(answer), headers: lowerCaseHeaders(answer.headers), timeMs: answer.timeMs ?? 0 });
  const failed = checks.filter((c) => !c.pass);
  return { caseId, pass: failed.length === 0, cause: failed[0]?.cause ?? 'ok', checks, message: failed.map((c) => `${c.name}: ${c.message}`).join('\n') };
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
