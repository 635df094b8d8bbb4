import { libraryScript, loadSandboxFunctions } from '../sandbox/bundle.js';
import type { CaseSpec } from '../cases/case-header.js';
import { ACK_TIME_LIMIT_MS } from '../protocol/constants.js';
import { HINTS } from './causes.js';
import { STACK_CAUSES } from './name-stack.js';

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

/** What the words of a refusal reveal: a JSON parser error, a duplicate order, a decryption failure, or signature/keys. */
export type AnswerEvidence = 'json-parse' | 'duplicate' | 'decrypt' | 'keys' | '';

/** What the judge's rules read besides the answer: injected into the collection's test script too. */
export const JUDGE_CONSTANTS = { HINTS: sandboxHints(), JUDGE: { timeLimitMs: ACK_TIME_LIMIT_MS } } as const;

/**
 * The hints the sandbox judge can pick: the causes only Node names (a stack's kind, from the
 * fingerprints) stay out of the script, which every request recompiles.
 */
function sandboxHints(): Partial<typeof HINTS> {
  const nodeOnly = new Set<string>(Object.values(STACK_CAUSES).filter((c) => c !== 'method-not-allowed'));
  return Object.fromEntries(Object.entries(HINTS).filter(([cause]) => !nodeOnly.has(cause)));
}

/** The fragments the collection's test script judges with (src/sandbox/lib/). */
const JUDGE_FRAGMENTS = ['judge.js', 'mask.js', 'flat-xml.js'];

let judge: Record<string, (...args: any[]) => any> | undefined;

/**
 * The ack rules as the Postman test script applies them: the same fragments with the same
 * constants, so the CLI's causes and the Postman test results cannot drift apart.
 */
function sandboxJudge(): Record<string, (...args: any[]) => any> {
  judge ??= loadSandboxFunctions(libraryScript(JUDGE_FRAGMENTS, JUDGE_CONSTANTS));
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
