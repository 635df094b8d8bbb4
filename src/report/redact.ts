/** Replaces every secret in text before it leaves the process (output, reports, errors). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 8) continue;
    out = out.split(secret).join('‹redacted›');
    // PEM bodies also travel line by line (e.g. in a collection's exec array).
    for (const line of secret.split('\n')) if (line.length >= 40) out = out.split(line).join('‹redacted›');
  }
  return out;
}
