/**
 * Text files from outside (a config, a data file) must be UTF-8: a decoder that quietly puts U+FFFD
 * in place of a bad byte would send a different value than the one in the file. Decoding here is
 * strict and an error names the byte offset, so the user can find the byte (e.g. `xxd -s OFFSET`).
 */

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Byte offset of the first byte that does not start or continue a valid UTF-8 sequence (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or undefined when all of it is valid.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number | undefined {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i += 1;
      continue;
    }
    let length: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [length, min] = [2, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [length, min] = [3, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [length, min] = [4, 0x10000];
    else return i;
    if (i + length > bytes.length) return i;
    let code = b & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k]!;
      if ((next & 0xc0) !== 0x80) return i;
      code = (code << 6) | (next & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += length;
  }
  return undefined;
}

/** The text of UTF-8 bytes (a leading BOM removed), or the offset of the first invalid byte. */
export function decodeUtf8(bytes: Uint8Array): { text: string } | { invalidAt: number } {
  try {
    const text = strict.decode(bytes);
    return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
  } catch {
    return { invalidAt: invalidUtf8Offset(bytes) ?? 0 };
  }
}
