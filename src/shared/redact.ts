import { libraryScript, loadSandboxFunctions } from '../sandbox/bundle.js';

/**
 * Secret masking for everything that leaves the process (output, reports, errors). The rules live
 * in src/sandbox/lib/mask.js, which the collection's test script runs too: one implementation, so
 * what Newman quotes and what the CLI prints are masked alike. A secret is found raw, JSON-, XML-
 * or URL-escaped and base64-encoded, and so are the long lines of a multi-line one (a PEM key).
 */
export const REDACTED = '‹redacted›';

type Mask = (text: string, secrets: readonly string[], options?: { edge?: boolean }) => string;
let mask: Mask | undefined;
const masker = (): Mask => (mask ??= loadSandboxFunctions(libraryScript(['mask.js'])).maskSecrets as Mask);

/** Replaces every secret in text, in any of the encodings above. */
export function redact(text: string, secrets: readonly string[]): string {
  return secrets.length === 0 ? text : masker()(text, secrets);
}

/**
 * Masks every string in a run's results before any report is rendered, so a report's own escaping
 * (JSON, XML, HTML) never meets an unmasked secret, and a length limit never cuts one in half. An
 * answer that was cut short (response.truncatedAtBytes) may end in the first part of a secret:
 * that part is masked too.
 */
export function redactRun<T>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0) return value;
  const walk = (item: unknown, edge: boolean): unknown => {
    if (typeof item === 'string') return masker()(item, secrets, { edge });
    if (Array.isArray(item)) return item.map((entry) => walk(entry, false));
    if (item === null || typeof item !== 'object') return item;
    const cut = (item as { truncatedAtBytes?: unknown }).truncatedAtBytes !== undefined;
    return Object.fromEntries(
      Object.entries(item).map(([key, entry]) => [redact(key, secrets), walk(entry, cut && key === 'body')]),
    );
  };
  return walk(value, false) as T;
}
