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
