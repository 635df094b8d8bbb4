import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/shared/errors.js';
import { bundleScript, loadSandboxFunctions } from '../../src/sandbox/bundle.js';
import { sandboxConstants } from '../../src/collection/sandbox-scripts.js';
import { seededRandom } from '../support/seeded-random.js';

/** Malformed private keys end in a clean error naming the field, in Node and in the sandbox. */

function mutate(pem: string, random: () => number): string {
  const lines = pem.trim().split('\n');
  switch (Math.floor(random() * 6)) {
    case 0:
      return lines.slice(0, 1 + Math.floor(random() * (lines.length - 1))).join('\n'); // truncated
    case 1: {
      // one base64 character changed
      const i = 1 + Math.floor(random() * (lines.length - 2));
      const line = lines[i]!;
      const j = Math.floor(random() * line.length);
      lines[i] = line.slice(0, j) + (line[j] === 'A' ? 'B' : 'A') + line.slice(j + 1);
      return lines.join('\n');
    }
    case 2:
      return lines.filter((_, i) => i !== 1 + Math.floor(random() * (lines.length - 2))).join('\n'); // a line dropped
    case 3:
      return pem.replace('PRIVATE KEY', 'PUBLIC KEY');
    case 4:
      return pem.replace(/[A-Za-z0-9+/]{10}/, '!!!!!!!!!!');
    default:
      return Buffer.from(pem)
        .subarray(0, Math.floor(random() * pem.length))
        .toString('utf8');
  }
}

describe('malformed private keys (fuzz)', () => {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
  const sandbox = loadSandboxFunctions(bundleScript('prerequest', sandboxConstants('prerequest')));
  const dir = mkdtempSync(join(tmpdir(), 'keyfuzz-'));
  const config = join(dir, 'wxpay-notify.json');
  writeFileSync(
    config,
    JSON.stringify({
      name: 'fuzz',
      appid: 'wx1',
      mchid: '1',
      v3: {
        notifyUrl: 'https://a.example/n',
        refundNotifyUrl: 'https://a.example/r',
        apiV3Key: 'k'.repeat(32),
        platform: { privateKeyFile: 'key.pem', serial: 'PUB_KEY_ID_1' },
      },
    }),
  );

  it('config loading: every mutated key file is a ConfigError on v3.platform.privateKeyFile, never a crash or a secret', async () => {
    const random = seededRandom();
    for (let i = 0; i < 60; i++) {
      const broken = mutate(pem, random);
      writeFileSync(join(dir, 'key.pem'), broken);
      try {
        await loadConfig(config, {});
      } catch (error) {
        if (!(error instanceof ConfigError)) throw new Error(`case ${i}: ${String(error)}`, { cause: error });
        expect(error.problems.map((p) => p.path)).toEqual(['v3.platform.privateKeyFile']);
        for (const line of pem.split('\n').filter((l) => l.length > 40)) expect(error.message).not.toContain(line);
        continue;
      }
      // A mutation can still load (e.g. a damaged CRT part, which OpenSSL works around): then the
      // sandbox must sign exactly as Node does.
      const nodeSignature = sign('sha256', Buffer.from('m'), broken).toString('base64');
      expect(sandbox.rsaSha256SignBase64!(sandbox.parseRsaPrivateKeyPem!(broken), 'm'), `case ${i}`).toBe(
        nodeSignature,
      );
    }
  });

  it('sandbox parser: a mutated key either signs correctly or throws an Error with a reason', () => {
    const random = seededRandom();
    for (let i = 0; i < 200; i++) {
      const broken = mutate(pem, random);
      try {
        const key = sandbox.parseRsaPrivateKeyPem!(broken);
        sandbox.rsaSha256SignBase64!(key, 'message');
      } catch (error) {
        // The sandbox runs in its own realm: its Error is not this realm's, so check the shape.
        expect(Object.prototype.toString.call(error), `case ${i}`).toBe('[object Error]');
        expect(String((error as Error).message).length).toBeGreaterThan(10);
      }
    }
  });
});
