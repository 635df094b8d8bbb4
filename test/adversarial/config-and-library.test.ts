import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../../src/cli.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { judge, type NotifyConfig } from '../../src/library/index.js';
import { invalidUtf8Offset } from '../../src/shared/utf8-text.js';
import { testKeys } from '../support/suite-fixture.js';
import { expectInert, expectNoSecret, expectOneLine, secretForms } from './support.js';

/**
 * Issue 18, class 6: a config that is not UTF-8 is an error naming the byte offset (nothing is
 * written); the library's judge() refuses a missing answer clearly and masks secrets when it is
 * given the config (and, as its TSDoc says, cannot without it).
 */

describe('a config file that is not UTF-8', () => {
  const cases: { name: string; bytes: number[] }[] = [
    { name: 'a Latin-1 é (GBK/Latin-1 editors)', bytes: [0xe9] },
    { name: 'a lone continuation byte', bytes: [0x80] },
    { name: 'an overlong slash', bytes: [0xc0, 0xaf] },
    { name: 'a UTF-16 surrogate in UTF-8', bytes: [0xed, 0xa0, 0x80] },
    { name: 'a sequence cut short at the end of a value', bytes: [0xe4, 0xb8] },
  ];
  for (const { name, bytes } of cases) {
    it(`${name}: exit 2, one line naming the byte offset, nothing written`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wxpay-utf8-'));
      const before = Buffer.from('{"name":"acme","appid":"wx');
      const config = join(dir, 'wxpay-notify.json');
      writeFileSync(
        config,
        Buffer.concat([
          before,
          Buffer.from(bytes),
          Buffer.from(
            '1","mchid":"1","v2":{"notifyUrl":"http://a/b","refundNotifyUrl":"http://a/c","apiKey":"k7Hq2Lm9Xw4Rt8Yp3Zs6Vb1Nc5Df0Gj!"}}',
          ),
        ]),
      );
      const io = memoryIO();
      expect(await cli(['generate', '-c', config, '-o', join(dir, 'out')], io)).toBe(2);
      expectOneLine(
        io.stderr,
        new RegExp(
          `^wxpay-notify: config file .*wxpay-notify\\.json is not valid UTF-8: the byte at offset ${before.length} is not part of a UTF-8 character; save the file as UTF-8 \\(values are sent exactly as written, never with a replacement character\\)$`,
          'm',
        ),
      );
      expect(readdirSync(dir)).toEqual(['wxpay-notify.json']);
    });
  }

  it('finds the first invalid byte and accepts every valid form (1 to 4 bytes, BOM)', () => {
    expect(invalidUtf8Offset(Buffer.from('\uFEFFa é 支付 🎉 \u{10FFFF}'))).toBeUndefined();
    expect(invalidUtf8Offset(Buffer.from([0x61, 0xf4, 0x90, 0x80, 0x80]))).toBe(1); // above U+10FFFF
    expect(invalidUtf8Offset(Buffer.from([0x61, 0x62, 0xf0, 0x9f, 0x8e]))).toBe(2); // cut short
    expect(invalidUtf8Offset(Buffer.from([0xe0, 0x80, 0x80]))).toBe(0); // overlong
  });
});

describe("the library's judge()", () => {
  it('a missing answer is a TypeError that says what to pass, not a crash inside', () => {
    for (const answer of [null, undefined, 'OK', 200]) {
      expect(() => judge('v2.pay.success', answer as never)).toThrow(TypeError);
      expect(() => judge('v2.pay.success', answer as never)).toThrow(
        /^judge\("v2\.pay\.success", answer\): the answer must be the merchant's response as an object with its HTTP status \(status, statusCode or code\) and body \(text or body\), e\.g\. what supertest returns; got (null|undefined|string|number)$/,
      );
    }
  });

  it("given the config, no secret the answer echoes (raw, JSON, XML, URL) reaches the verdict; without it, the TSDoc's caveat holds", () => {
    const keys = testKeys();
    const config: NotifyConfig = {
      appid: 'wx2421b1c4370ec43b',
      mchid: '1900000109',
      v2: { notifyUrl: 'http://127.0.0.1:9/n', refundNotifyUrl: 'http://127.0.0.1:9/r', apiKey: keys.apiKey },
      v3: {
        notifyUrl: 'http://127.0.0.1:9/n3',
        refundNotifyUrl: 'http://127.0.0.1:9/r3',
        apiV3Key: keys.apiV3Key,
        platform: { privateKeyPem: keys.publicKey.privateKeyPem, serial: keys.publicKey.keyId },
      },
    };
    const secrets = [keys.apiKey, keys.apiV3Key, keys.publicKey.privateKeyPem];
    // The encodings the masker reads (base64 is not one of them: see the report's note).
    const echoes = [keys.apiKey, keys.apiV3Key].flatMap((s) =>
      secretForms(s).filter((form) => form !== Buffer.from(s).toString('base64').replace(/=+$/, '')),
    );
    // One answer per echoed form, short enough that the judge's quote of it is never cut.
    for (const echo of echoes) {
      const verdict = judge(
        'v2.pay.success',
        { status: 200, text: `key=${echo}`, headers: { 'x-echo': keys.apiKey } },
        config,
      );
      expect(verdict.pass).toBe(false);
      expect(verdict.message, echo.slice(0, 50)).toMatch(/redacted/);
      expectNoSecret(
        JSON.stringify(verdict.checks) + verdict.message,
        [keys.apiKey, keys.apiV3Key],
        `verdict for ${echo.slice(0, 6)}…`,
      );
      expectInert(verdict.message.replace(/\n/g, ' '), 'verdict message');
    }
    const pem = judge(
      'v2.pay.success',
      { status: 500, text: `<xml><return_msg>${keys.publicKey.privateKeyPem}</return_msg></xml>` },
      config,
    );
    expectNoSecret(JSON.stringify(pem.checks) + pem.message, secrets, 'verdict quoting a PEM');
    const unmasked = judge('v2.pay.success', { status: 200, text: `key=${keys.apiKey}` });
    expect(unmasked.message).toContain(keys.apiKey);
  });
});
