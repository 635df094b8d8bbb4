import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initProject } from '../../src/keys/init-project.js';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/shared/errors.js';
import { receiverOptionsFromConfig } from '../../src/receiver/from-config.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { testKeys } from '../support/suite-fixture.js';
import type { KeyMode } from '../../src/keys/key-mode.js';

/**
 * Merchants verify v3 callbacks with the WeChat Pay public key only, the platform certificate only,
 * or both during the switch-over. `init --key-mode` writes each set-up, and the suite runs green on
 * a receiver that trusts exactly that set-up, every v3 callback carrying its serial.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function initAndRun(keyMode: KeyMode) {
  const dir = mkdtempSync(join(tmpdir(), `wxpay-keymode-${keyMode}-`));
  dirs.push(dir);
  const keys = testKeys();
  await initProject({ dir, keyMode, keys });
  const env = { WXPAY_V2_API_KEY: keys.apiKey, WXPAY_V3_API_KEY: keys.apiV3Key };
  const file = join(dir, 'wxpay-notify.jsonc');
  const placeholder = await loadConfig(file, env);
  const receiver = await startReceiver(receiverOptionsFromConfig(placeholder), { host: '127.0.0.1', port: 0 });
  try {
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('http://127.0.0.1:8080', receiver.url));
    const config = await loadConfig(file, env);
    const io = memoryIO();
    const code = await runSuite(
      config,
      { format: 'json', reporters: [], reporterDir: dir, insecure: false },
      io,
      'keymode',
    );
    return { code, config, report: JSON.parse(io.stdout), text: readFileSync(file, 'utf8'), dir, keys };
  } finally {
    await receiver.close();
  }
}

describe('key modes: public key only, certificate only, both', () => {
  it('certificate only: every v3 callback is signed with the certificate, forged cases judged against it', async () => {
    const { code, config, report, text, keys } = await initAndRun('certificate');
    expect(text).toContain('"platformCertificate"');
    expect(text).not.toContain('"platform":');
    expect(config.v3!.platform).toBeUndefined();
    expect(code).toBe(0);
    expect(report.cases.filter((c: any) => c.verdict !== 'pass')).toEqual([]);
    expect(report.cases.map((c: any) => c.caseId)).not.toContain('v3.keys.migration');
    const serials = new Set(
      report.deliveries.filter((d: any) => d.version === 'v3').map((d: any) => d.request.headers['Wechatpay-Serial']),
    );
    // The unknown-serial case announces a serial no one holds, missing-headers none at all; every
    // other delivery carries the certificate's.
    serials.delete([...serials].find((s) => String(s).includes('UNKNOWN')));
    serials.delete(undefined);
    expect([...serials]).toEqual([keys.certificate.serial]);
    const forged = report.cases.find((c: any) => c.caseId === 'v3.forged.bad-signature');
    expect(forged).toMatchObject({ verdict: 'pass', control: { caseId: 'v3.pay.success', verdict: 'pass' } });
  }, 60_000);

  it('public key only: no certificate files, every v3 callback carries the PUB_KEY_ID_ serial', async () => {
    const { code, report, dir, keys } = await initAndRun('public-key');
    expect(() => readFileSync(join(dir, 'trust-kit/wechatpay-test-platform-cert.pem'))).toThrow();
    expect(readFileSync(join(dir, 'trust-kit/README.md'), 'utf8')).not.toContain(keys.certificate.serial);
    expect(code).toBe(0);
    const serials = new Set(
      report.deliveries
        .filter((d: any) => d.version === 'v3' && !/unknown-serial|missing-headers/.test(d.caseId))
        .map((d: any) => d.request.headers['Wechatpay-Serial']),
    );
    expect([...serials]).toEqual([keys.publicKey.keyId]);
  }, 60_000);

  it('a config with neither signer names both set-ups; a certificate serial under v3.platform says where it goes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-keymode-bad-'));
    dirs.push(dir);
    const keys = testKeys();
    await initProject({ dir, keyMode: 'both', keys });
    const file = join(dir, 'wxpay-notify.jsonc');
    const env = { WXPAY_V2_API_KEY: keys.apiKey, WXPAY_V3_API_KEY: keys.apiV3Key };
    const original = readFileSync(file, 'utf8');
    const problems = async (text: string) => {
      writeFileSync(file, text);
      const error = await loadConfig(file, env).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`).join('\n');
    };
    const withoutSigners = original.replace(/("apiV3Key": "[^"]*"),[\s\S]*?\n {2}\},/, '$1\n  },');
    expect(withoutSigners).not.toMatch(/"platform(Certificate)?":/);
    expect(await problems(withoutSigners)).toMatch(
      /^v3\.platform: or v3\.platformCertificate is required: .*Public key only \(微信支付公钥\).*certificate only \(平台证书\).*--key-mode/m,
    );
    const certUnderPlatform = original.replace(keys.publicKey.keyId, keys.certificate.serial);
    expect(await problems(certUnderPlatform)).toMatch(
      /^v3\.platform\.serial: looks like a platform certificate serial .*move this signer to `v3\.platformCertificate`/m,
    );
  }, 60_000);
});
