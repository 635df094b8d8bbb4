import { bundleScript, loadSandboxFunctions } from '../sandbox/bundle.js';
import { sandboxConstants } from '../collection/sandbox-scripts.js';
import type { CaseSpec } from '../collection/case-spec.js';

export interface JudgeCheck {
  name: string;
  pass: boolean;
  cause: string;
  message: string;
}

export interface JudgedResponse {
  code: number;
  body: string;
  headers: Record<string, string>;
  timeMs: number;
}

/** What the words of a refusal reveal: a JSON parser error, a duplicate order, or signature/keys. */
export type AnswerEvidence = 'json-parse' | 'duplicate' | 'keys' | '';

let judge: Record<string, (...args: any[]) => any> | undefined;

/**
 * The ack rules as the Postman test script applies them: loaded from the same bundled text, so the
 * CLI's causes and the Postman test results cannot drift apart.
 */
function sandboxJudge(): Record<string, (...args: any[]) => any> {
  judge ??= loadSandboxFunctions(bundleScript('test', sandboxConstants('test')));
  return judge;
}

/** The checks of one answer (time limit, acknowledged or refused), each with its cause and message, by the bundled judge. */
export function judgeAnswer(spec: CaseSpec, response: JudgedResponse, secrets: readonly string[] = []): JudgeCheck[] {
  return sandboxJudge().judgeResponse!(spec, response, secrets) as JudgeCheck[];
}

export function answerEvidence(body: string): AnswerEvidence {
  return sandboxJudge().answerEvidence!(body) as AnswerEvidence;
}

/** An answer body that is an HTML page (a WAF, login wall or error page), by the judge's own test. */
export function looksLikeHtml(body: string): boolean {
  return sandboxJudge().looksLikeHtml!(body) as boolean;
}

/** What WeChat expects in answer to a case, in the words of the Postman check that judges it. */
export function expectationText(spec: Pick<CaseSpec, 'expect' | 'version'>): string {
  return sandboxJudge().expectationText!(spec) as string;
}
