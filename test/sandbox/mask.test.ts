import { describe, expect, it } from 'vitest';
import { SECRET_VARIABLES, environmentVariables } from '../../src/collection/variables.js';
import { sandboxScripts } from '../../src/collection/sandbox-scripts.js';
import { demoConfig } from '../../src/commands/demo.js';
import { REDACTED, redact } from '../../src/shared/redact.js';
import { judgeAnswer } from '../../src/judge/answer.js';
import type { CaseSpec } from '../../src/cases/case-header.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * The masking rules (src/sandbox/lib/mask.js), run as Node loads them, and the judge quoting an
 * answer with them. The key below holds every character the encodings change.
 */
const KEY = `K&<>"'/\\+=%;#?@AbCdEfGhIjKlMn012`;
const json = (s: string): string => JSON.stringify(s).slice(1, -1);

describe('redact: every encoding of a secret', () => {
  it.each([
    ['raw', KEY],
    ['JSON-escaped', json(KEY)],
    ['JSON-escaped with \\/', json(KEY).replaceAll('/', '\\/')],
    ['JSON \\u-escaped', [...KEY].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')],
    [
      'XML-escaped',
      KEY.replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;')
        .replace(/'/g, '&apos;'),
    ],
    ['XML-escaped, only & and <', KEY.replace(/&/g, '&amp;').replace(/</g, '&lt;')],
    ['XML numeric references', [...KEY].map((c) => `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`).join('')],
    ['URL-encoded', encodeURIComponent(KEY)],
    ['URL-encoded, lower-case hex', encodeURIComponent(KEY).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
  ])('%s', (_name, encoded) => {
    expect(redact(`before ${encoded} after`, [KEY])).toBe(`before ${REDACTED} after`);
  });

  it('a PEM key: whole, and line by line when re-wrapped or JSON-escaped', () => {
    const pem = testKeys().publicKey.privateKeyPem;
    expect(redact(`x${pem}y`, [pem])).toBe(`x${REDACTED}y`);
    const lines = pem.split('\n').filter((l) => l.length >= 40);
    const escaped = json(pem.replace(/\n/g, '\r\n'));
    const masked = redact(escaped, [pem]);
    for (const line of lines) expect(masked).not.toContain(line.slice(0, 20));
  });

  it('masks the start of a secret at the end of a text cut short only when told it was cut', async () => {
    const { redactRun } = await import('../../src/shared/redact.js');
    const cut = `answer … key=${KEY.slice(0, 9)}`;
    expect(redact(cut, [KEY])).toBe(cut);
    const run = redactRun({ response: { body: cut, truncatedAtBytes: 262144 }, request: { body: cut } }, [KEY]);
    expect(run.response.body).toBe(`answer … key=${REDACTED}`);
    expect(run.request.body).toBe(cut);
  });

  it('leaves text without secrets, and secrets shorter than 8 characters, alone', () => {
    const text = 'a\\u0041 &amp; %41 plain';
    expect(redact(text, [KEY])).toBe(text);
    expect(redact('short 1234567', ['1234567'])).toBe('short 1234567');
  });
});

describe('redact: a secret echoed base64-encoded', () => {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
  /** The characters of encoded that carry any bit of the secret's bytes (which start after `before` bytes). */
  const secretChars = (encoded: string, before: number, bytes: number): string =>
    encoded.slice(Math.floor((before * 4) / 3), Math.ceil(((before + bytes) * 4) / 3));
  const NON_ASCII = 'APIv3密钥-éß-0123456789abcdef';

  it.each([
    ['aligned (the secret alone), padded', '', KEY, b64],
    ['one byte before it', 'x', KEY, b64],
    ['two bytes before it', 'xy', KEY, b64],
    ['one byte before it, URL-safe, unpadded', 'x', KEY, b64url],
    ['two bytes before it, URL-safe, unpadded', 'xy', KEY, b64url],
    ['non-ASCII secret (UTF-8 bytes), two bytes before it', 'ab', NON_ASCII, b64],
  ])('%s', (_name, before, secret, encode) => {
    const encoded = encode(`${before}${secret}! and more`);
    const chars = secretChars(encoded, Buffer.byteLength(before), Buffer.byteLength(secret));
    expect(encoded).toContain(chars);
    const masked = redact(`token=${encoded};`, [secret]);
    expect(masked).toContain(REDACTED);
    // Nothing left of the secret: no 4 characters in a row that carry its bits.
    for (let i = 0; i + 4 <= chars.length; i++) expect(masked).not.toContain(chars.slice(i, i + 4));
    // The text around it is kept.
    expect(masked.startsWith('token=')).toBe(true);
    expect(masked.endsWith(';')).toBe(true);
  });

  it('padding after a secret that ends the base64 text is masked with it, in both alphabets', () => {
    for (const before of ['', 'x', 'xy']) {
      const padded = b64(before + KEY);
      expect(redact(`a ${padded} b`, [KEY])).toMatch(new RegExp(`^a [A-Za-z0-9+/]{0,2}${REDACTED} b$`));
      expect(redact(`a ${b64url(before + KEY)} b`, [KEY])).toMatch(new RegExp(`^a [\\w-]{0,2}${REDACTED} b$`));
    }
  });

  it('a PEM key line base64-encoded, alone and inside a base64-encoded JSON-escaped document', () => {
    const pem = testKeys().publicKey.privateKeyPem;
    const line = pem.split('\n').find((l) => l.length >= 40)!;
    expect(redact(`<msg>${b64(line)}</msg>`, [pem])).toBe(`<msg>${REDACTED}</msg>`);
    const json = JSON.stringify({ key: pem });
    const document = b64(json);
    const masked = redact(document, [pem]);
    const lines = pem.split('\n').filter((x) => x.length >= 40);
    expect(lines.length).toBeGreaterThan(10);
    // Each line sits at its own byte alignment in the document: none of its characters may remain.
    for (const l of lines) {
      const chars = secretChars(document, Buffer.byteLength(json.slice(0, json.indexOf(l))), Buffer.byteLength(l));
      for (let i = 0; i + 8 <= chars.length; i++) expect(masked).not.toContain(chars.slice(i, i + 8));
    }
  });

  it('inside JSON: base64 with \\/-escaped slashes and URL-encoded base64', () => {
    const encoded = b64(`xy${KEY}`);
    expect(encoded).toMatch(/[+/]/);
    const body = JSON.stringify({ echo: encoded, url: encodeURIComponent(encoded) }).replaceAll('/', '\\/');
    const masked = redact(body, [KEY]);
    expect(masked).toMatch(new RegExp(`^\\{"echo":"eH${REDACTED}","url":"eH${REDACTED}"\\}$`));
  });

  it('the start of a base64-encoded secret at the end of an answer cut short, only when told it was cut', async () => {
    const { redactRun } = await import('../../src/shared/redact.js');
    const cut = `answer ${b64(`xy${KEY}`).slice(0, 20)}`;
    expect(redact(cut, [KEY])).toBe(cut);
    expect(redactRun({ response: { body: cut, truncatedAtBytes: 262144 } }, [KEY]).response.body).toBe(
      `answer eH${REDACTED}`,
    );
  });

  it('a secret with a lone surrogate (no UTF-8 form) is still masked raw, and nothing throws', () => {
    const odd = '\ud800defghijklmnop';
    expect(redact(`abc ${odd} ${b64('xy0123456789abcdef')}`, [odd])).toBe(
      `abc ${REDACTED} ${b64('xy0123456789abcdef')}`,
    );
  });

  it('leaves ordinary base64 (certificates, signatures, ciphertext without the secret) alone', () => {
    const keys = testKeys();
    const text = [
      b64('an ordinary sentence, nothing secret in it at all'),
      b64url('another one: ?>?>?>'),
      keys.publicKey.publicKeyPem,
      keys.certificate.certificatePem,
      b64(keys.certificate.certificatePem),
    ].join('\n');
    expect(redact(text, [KEY, keys.publicKey.privateKeyPem, keys.certificate.privateKeyPem])).toBe(text);
    expect(redact(`${b64('1234567')} ${b64('1234567')}`, ['1234567'])).toBe(`${b64('1234567')} ${b64('1234567')}`);
  });
});

describe('the judge quotes answers with secrets masked before the quote is cut', () => {
  const spec = {
    id: 'v2.pay.success',
    version: 'v2',
    kind: 'pay',
    expect: 'ack',
    severity: 'security',
  } as unknown as CaseSpec;
  it.each([0, 40, 60, 70])('a key starting at column %i of the answer', (column) => {
    const body = `<xml><return_code>FAIL</return_code><return_msg>${'x'.repeat(column)}key=${KEY} and more</return_msg></xml>`;
    const { message } = judgeAnswerWith(spec, body, [KEY]);
    for (let i = 0; i + 4 <= KEY.length; i++) expect(message).not.toContain(KEY.slice(i, i + 4 + 2));
  });

  function judgeAnswerWith(s: CaseSpec, body: string, secrets: string[]) {
    return judgeAnswer(s, { code: 200, body, headers: {}, timeMs: 3 }, secrets).find((c) => !c.pass)!;
  }
});

describe('the test script knows which variables hold secrets', () => {
  it('SECRET_VARIABLES are exactly the environment variables marked secret', () => {
    const config = demoConfig(testKeys(), 'http://127.0.0.1:1', '/tmp');
    expect(
      environmentVariables(config, true)
        .filter((v) => v.secret)
        .map((v) => v.key)
        .sort(),
    ).toEqual([...SECRET_VARIABLES].sort());
  });

  it('the bundled test script masks with them', () => {
    const { test } = sandboxScripts();
    expect(test).toContain('function maskSecrets');
    for (const name of SECRET_VARIABLES) expect(test).toContain(JSON.stringify(name));
  });
});
