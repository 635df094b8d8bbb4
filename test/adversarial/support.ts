import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { fakePem } from '../support/fake-pem.js';

/**
 * What the adversarial tests share: a sentinel tree outside the target folder that must not change,
 * a snapshot of a tree (type, mode, content hash, link target of every entry), what a terminal must
 * never receive, and every encoding a secret must never appear in.
 */

/** A fresh temp folder holding `target` (where the tool is pointed) and `sentinel` (outside it). */
export function playground(): { root: string; target: string; sentinel: string } {
  const root = mkdtempSync(join(tmpdir(), 'wxpay-adversarial-'));
  const target = join(root, 'target');
  const sentinel = join(root, 'sentinel');
  mkdirSync(target);
  mkdirSync(join(sentinel, 'deep'), { recursive: true });
  writeFileSync(join(sentinel, 'id_rsa'), fakePem('not a real key', 'SENTINEL PRIVATE KEY'), { mode: 0o600 });
  writeFileSync(join(sentinel, 'notes.txt'), 'the user\u2019s own file\n');
  writeFileSync(join(sentinel, 'deep', 'request.bru'), 'meta {\n  name: mine\n}\n');
  writeFileSync(join(sentinel, 'acme.postman_collection.json'), '{"mine":true}\n');
  return { root, target, sentinel };
}

/** Every entry under `dir`: relative path → kind, mode, content hash or link target. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string, rel: string): void => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      const key = rel ? `${rel}/${name}` : name;
      const info = lstatSync(path);
      if (info.isSymbolicLink()) out[key] = `link -> ${readlinkSync(path)}`;
      else if (info.isDirectory()) {
        out[key] = `dir ${(info.mode & 0o777).toString(8)}`;
        walk(path, key);
      } else if (info.isFile())
        out[key] =
          `file ${(info.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
      else out[key] = 'special';
    }
  };
  walk(dir, '');
  return out;
}

/** Characters no terminal may receive from wxpay-notify except as visible escapes. */
export const LIVE_ON_A_TERMINAL =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]/u;

/** Hostile text: each is something a terminal acts on or a reader is fooled by. */
export const HOSTILE_TEXT = {
  clearScreen: '\u001b[2J\u001b[H',
  windowTitle: '\u001b]0;owned\u0007',
  clipboard: '\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\u0007',
  hyperlink: '\u001b]8;;https://evil.example/\u001b\\click\u001b]8;;\u001b\\',
  recolour: '\u001b[32mPASS\u001b[0m',
  c1Csi: '\u009b2J',
  c1Osc: '\u009d0;owned\u009c',
  carriageReturn: 'FAIL\rPASS',
  backspace: 'FAIL\b\b\b\bPASS',
  del: 'a\u007fb',
  nul: 'a\u0000b',
  bidiOverride: 'refund \u202Efdp.exe',
  bidiIsolate: '\u2066admin\u2069 \u2067x\u2069 \u2068y\u2069',
  embeddings: '\u202Aa\u202Bb\u202Cc\u202Dd',
  zeroWidth: 'a\u200Bb\u200Cc\u200Dd\u2060e\uFEFF',
  marks: '\u200E\u200F\u061C',
  lineSeparator: 'one\u2028two\u2029three',
  tags: 'x\u{E0041}\u{E0042}\u{E007F}',
  hangulFiller: 'a\u3164b\u115Fc',
} as const;

/** Asserts terminal bytes carry nothing live; `label` names the surface in the failure. */
export function expectInert(text: string, label: string): void {
  const found = LIVE_ON_A_TERMINAL.exec(text);
  expect(
    found,
    `${label}: live character U+${found?.[0].codePointAt(0)?.toString(16).padStart(4, '0')} at ${found?.index}: ${JSON.stringify(text.slice(Math.max(0, (found?.index ?? 0) - 40), (found?.index ?? 0) + 40))}`,
  ).toBeNull();
}

/** A secret as it could leak: raw, JSON-, XML-, URL- and base64-encoded (and each long PEM line). */
export function secretForms(secret: string): string[] {
  const parts = [secret, ...secret.split('\n').filter((line) => line.length >= 40)];
  return [
    ...new Set(
      parts.flatMap((s) => [
        s,
        JSON.stringify(s).slice(1, -1),
        s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'),
        encodeURIComponent(s),
        Buffer.from(s).toString('base64').replace(/=+$/, ''),
      ]),
    ),
  ].filter((form) => form.length >= 8);
}

export function expectNoSecret(text: string, secrets: readonly string[], label: string): void {
  for (const secret of secrets)
    for (const form of secretForms(secret))
      expect(text.includes(form), `${label} holds a secret (${form.slice(0, 6)}…)`).toBe(false);
}

/** One line of error output: "wxpay-notify: …\n". */
export function expectOneLine(stderr: string, pattern: RegExp): void {
  expect(stderr).toMatch(pattern);
  expect(stderr.trimEnd().split('\n'), stderr).toHaveLength(1);
}
