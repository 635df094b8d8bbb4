import { bundleBrunoScript, bundleScript, type ScriptKind } from '../sandbox/bundle.js';
import { CASE_HEADER } from '../cases/case-header.js';
import { JUDGE_CONSTANTS } from '../judge/answer.js';
import { SECRET_VARIABLES } from './variables.js';
import { REQUEST_DEADLINE_MS } from '../shared/limits.js';
import {
  CALLBACK_HEADERS,
  SIGNTEST_PREFIX,
  V3_HEADERS,
  V3_RESOURCE_ALGORITHM,
  V3_RESOURCE_TYPE,
  V3_SIGNATURE_TYPE,
} from '../protocol/constants.js';

/**
 * Where a request that could not be signed goes in runtimes that cannot skip it (no
 * pm.execution): a reserved name that never resolves (RFC 6761 `.invalid`), so nothing reaches
 * the merchant.
 */
export const NOT_SENT_URL = 'http://not-sent.wxpay-notify.invalid/';

/** Constants injected into the sandbox: the scripts keep no copies of their own. */
export function sandboxConstants(kind: ScriptKind): Record<string, unknown> {
  if (kind === 'test') return { CASE_HEADER, ...JUDGE_CONSTANTS, SECRET_VARIABLES };
  return {
    CASE_HEADER,
    CALLBACK_HEADERS,
    NOT_SENT_URL,
    SECRET_VARIABLES,
    V3: {
      resourceType: V3_RESOURCE_TYPE,
      algorithm: V3_RESOURCE_ALGORITHM,
      signatureType: V3_SIGNATURE_TYPE,
      signtestPrefix: SIGNTEST_PREFIX,
      headers: V3_HEADERS,
    },
  };
}

/** Per request, for runners that take a timeout (Bruno): the same deadline `run` enforces. */
export const REQUEST_TIMEOUT_MS = REQUEST_DEADLINE_MS;

let cached: { prerequest: string; test: string } | undefined;

/** The two collection-level scripts, exactly as they go into the collection. */
export function sandboxScripts(): { prerequest: string; test: string } {
  cached ??= {
    prerequest: bundleScript('prerequest', sandboxConstants('prerequest')),
    test: bundleScript('test', sandboxConstants('test')),
  };
  return cached;
}

let cachedBruno: { prerequest: string; test: string } | undefined;

/** The same two scripts for a Bruno collection (src/sandbox/bruno: only the glue differs). */
export function brunoScripts(): { prerequest: string; test: string } {
  const bruno = { BRUNO: { requestTimeoutMs: REQUEST_TIMEOUT_MS } };
  cachedBruno ??= {
    prerequest: bundleBrunoScript('prerequest', { ...sandboxConstants('prerequest'), ...bruno }),
    test: bundleBrunoScript('test', sandboxConstants('test')),
  };
  return cachedBruno;
}
