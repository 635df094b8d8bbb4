/**
 * A minimal DER encoder (ITU-T X.690), just enough to build one X.509 certificate. Every function
 * returns the complete TLV (tag, length, value) as a Buffer, so encoders nest by plain calls.
 */

/** Universal tags used by X.509. */
const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Definite-length encoding: short form below 128, long form (0x80 | byte count) otherwise. */
export function derLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`DER length out of range: ${length}`);
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function derTlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(value.length), value]);
}

export function derSequence(...items: Buffer[]): Buffer {
  return derTlv(TAG.sequence, Buffer.concat(items));
}

/** A SET OF; DER wants the members sorted by their encodings. */
export function derSet(...items: Buffer[]): Buffer {
  return derTlv(TAG.set, Buffer.concat([...items].sort(Buffer.compare)));
}

export function derBoolean(value: boolean): Buffer {
  return derTlv(TAG.boolean, Buffer.from([value ? 0xff : 0x00]));
}

export function derNull(): Buffer {
  return derTlv(TAG.null, Buffer.alloc(0));
}

/**
 * A non-negative INTEGER from its unsigned big-endian bytes (a number is accepted for small values).
 * Redundant leading zeros are dropped, and one 0x00 is added when the top bit would read as a sign.
 */
export function derInteger(value: Buffer | number): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`DER integer out of range: ${value}`);
    const hex = value.toString(16);
    bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  } else {
    bytes = value;
  }
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return derTlv(TAG.integer, bytes);
}

/** OBJECT IDENTIFIER from dotted text, e.g. "2.5.4.3". */
export function derOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new Error(`bad OID arc in ${dotted}`);
    return Number(arc);
  });
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || first > 2) throw new Error(`bad OID ${dotted}`);
  const body: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const chunk: number[] = [arc % 128];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift((n % 128) | 0x80);
    body.push(...chunk);
  }
  return derTlv(TAG.oid, Buffer.from(body));
}

export function derUtf8String(text: string): Buffer {
  return derTlv(TAG.utf8String, Buffer.from(text, 'utf8'));
}

/** BIT STRING of whole bytes (unusedBits = 0) or with trailing unused bits in the last byte. */
export function derBitString(bytes: Buffer, unusedBits = 0): Buffer {
  if (unusedBits < 0 || unusedBits > 7 || (unusedBits > 0 && bytes.length === 0)) {
    throw new RangeError(`bad unused-bit count ${unusedBits}`);
  }
  return derTlv(TAG.bitString, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

export function derOctetString(bytes: Buffer): Buffer {
  return derTlv(TAG.octetString, bytes);
}

/** [n] EXPLICIT: a constructed, context-specific wrapper around one complete encoding. */
export function derExplicit(tagNumber: number, inner: Buffer): Buffer {
  if (tagNumber < 0 || tagNumber > 30) throw new RangeError(`context tag out of range: ${tagNumber}`);
  return derTlv(0xa0 | tagNumber, inner);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * X.509 Time (RFC 5280 §4.1.2.5): UTCTime `YYMMDDHHMMSSZ` for the years 1950–2049, GeneralizedTime
 * `YYYYMMDDHHMMSSZ` from 2050 on. Always UTC, whole seconds (milliseconds are dropped).
 */
export function derTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 1950 || year > 9999)
    throw new RangeError(`date out of X.509 range: ${date.toString()}`);
  const rest =
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds()) +
    'Z';
  return year < 2050
    ? derTlv(TAG.utcTime, Buffer.from(pad(year % 100) + rest, 'ascii'))
    : derTlv(TAG.generalizedTime, Buffer.from(pad(year, 4) + rest, 'ascii'));
}
