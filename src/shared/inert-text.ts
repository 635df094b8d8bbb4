/**
 * Text from outside (a receiver's answer and headers, config values, file names, a data file's
 * cells) made inert for a terminal: every character a terminal would act on, or that hides or
 * reorders what is read, is shown as a visible escape instead.
 *
 * - C0 controls, DEL and C1 controls (Unicode category Cc): ESC starts CSI (clear screen, move the
 *   cursor, recolour), OSC (window title, OSC 52 clipboard write, OSC 8 links) and DCS sequences;
 *   0x9B and 0x9D are one-byte CSI and OSC on terminals that honour C1 (ECMA-48 §5.3); CR and BS
 *   overwrite what was printed.
 * - Invisible format characters (category Cf): bidi embeddings, overrides and isolates
 *   (U+202A–202E, U+2066–2069, the "Trojan Source" characters, CVE-2021-42574), marks (U+200E/F,
 *   U+061C), zero-width spaces and joiners, the BOM, tag characters (U+E0000 block).
 * - Line and paragraph separators (U+2028/2029, categories Zl/Zp): a line break a reader cannot see
 *   coming.
 * - Hangul fillers (U+115F, U+1160, U+3164, U+FFA0): letters that render as blank space.
 *
 * Each is shown as its `\uXXXX` escape, so the reader sees which character it was.
 * Nothing here imports from above src/shared/.
 */

// Unicode property escapes keep this list right as Unicode grows (Cf gains characters over time).
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0]/gu;
const UNSAFE_KEEP_LINES = /(?![\n])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0]/gu;

/**
 * `\uXXXX` per UTF-16 unit: readable on a terminal, and the same character to a JSON reader, so the
 * last pass cannot break `--format json` (those characters occur in JSON text only inside strings).
 */
function escapeChar(ch: string): string {
  let out = '';
  for (let k = 0; k < ch.length; k++) out += `\\u${ch.charCodeAt(k).toString(16).padStart(4, '0')}`;
  return out;
}

/** One line of outside text, inert: line breaks and tabs are escaped too (a table cell, a name in a message). */
export function inert(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Outside text that may span lines (an error message of several lines): `\n` stays, everything else as `inert`. */
export function inertLines(text: string): string {
  return text.replace(UNSAFE_KEEP_LINES, escapeChar);
}

/** True when `inert` would change the text. */
export function hasUnsafeText(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/**
 * The colour sequences wxpay-notify itself writes (SGR reset and foreground colours). The last pass
 * before a terminal keeps exactly these when colour is on; every other escape sequence is text.
 */
const OWN_COLOR = /\u001b\[(?:0|3[0-7]|9[0-7])m/y;

/**
 * The last pass before bytes reach a terminal (src/shared/command-io.ts): everything `inertLines`
 * escapes, except, when `color` is on, the colour sequences listed in OWN_COLOR. Renderers that
 * paint outside text make that text inert before they paint it, so an answer cannot recolour a row.
 */
export function inertForTerminal(text: string, options: { color: boolean }): string {
  if (!options.color) return inertLines(text);
  let out = '';
  let last = 0;
  for (let i = text.indexOf('\u001b'); i !== -1; i = text.indexOf('\u001b', i + 1)) {
    OWN_COLOR.lastIndex = i;
    const own = OWN_COLOR.exec(text);
    if (!own) continue;
    out += inertLines(text.slice(last, i)) + own[0];
    last = i + own[0].length;
    i = last - 1;
  }
  return out + inertLines(text.slice(last));
}
