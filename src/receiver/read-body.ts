import type { Readable } from 'node:stream';

/** 1 MiB: real notifications are a few KB; anything near this is not from WeChat. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads the whole body as bytes, or reports it too large. Past the limit the rest is drained and
 * dropped instead of closing the socket, so a client still uploading receives the 413 rather
 * than a connection reset.
 */
export async function readRawBody(req: Readable, limitBytes = MAX_BODY_BYTES): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limitBytes) chunks.push(chunk);
  }
  return size > limitBytes ? 'too-large' : Buffer.concat(chunks);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes the body once. `fatal` refuses invalid UTF-8 instead of silently substituting U+FFFD,
 * and `ignoreBOM` keeps a leading BOM: either change would alter the bytes the v3 signature covers,
 * since verification re-encodes this string as UTF-8.
 */
export function decodeUtf8(body: Buffer): string | undefined {
  try {
    return utf8.decode(body);
  } catch {
    return undefined;
  }
}
