import { inert } from '../shared/inert-text.js';

/**
 * Text from outside (a lookup's answer, a command's stderr, a URL built from sent values) quoted for
 * a finding: control and bidi characters escaped, so it cannot move the cursor or forge lines, and
 * cut to `max` characters (an ellipsis says so), so a huge answer cannot flood a report.
 */
export function quoteInert(text: string, max: number): string {
  const cut = text.length > max ? text.slice(0, max) : text;
  return `"${inert(cut).replace(/"/g, '\\"')}${text.length > max ? '…' : ''}"`;
}
