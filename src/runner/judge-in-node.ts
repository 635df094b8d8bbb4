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

let judge: ((spec: CaseSpec, response: JudgedResponse, secrets: readonly string[]) => JudgeCheck[]) | undefined;

/**
 * The ack rules as the Postman test script applies them: loaded from the same bundled text, so the
 * CLI's causes and the Postman test results cannot drift apart.
 */
export function judgeInNode(spec: CaseSpec, response: JudgedResponse, secrets: readonly string[] = []): JudgeCheck[] {
  judge ??= loadSandboxFunctions(bundleScript('test', sandboxConstants('test'))).judgeResponse as typeof judge;
  return judge!(spec, response, secrets);
}
