/**
 * Log lines quote what senders wrote (paths, sign_type, serials, refusal reasons built from them).
 * Written as is, a line break lets a sender forge whole log entries and an ESC sequence rewrites the
 * terminal, so every control character (and the invisible Unicode ones that reorder or break lines)
 * is written as a visible escape instead.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    return (
      NAMED[ch] ??
      (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
    );
  });
}

/** JSON for a log line: never throws (a value too deep or cyclic to print is said to be so). */
export function logJson(value: unknown): string {
  try {
    return escapeControl(JSON.stringify(value) ?? String(value));
  } catch {
    return '[not printable: nested too deep or cyclic]';
  }
}
