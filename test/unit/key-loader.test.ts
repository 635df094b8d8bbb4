import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, MAX_KEY_BYTES } from '../../src/config/load-config.js';
import { resolveConfig, type NotifyConfig } from '../../src/library/library-config.js';
import { ConfigError } from '../../src/shared/errors.js';
import { fakePem } from '../support/fake-pem.js';

/** One key loader, one set of bounds: a config file and a config given in code meet the same checks. */
describe('private keys are read by one loader, for the CLI and the library alike', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Far more than any PEM key: the wrong file (a log, a database dump) named as the key.
  const oversize = join(dir, 'huge.pem');
  const hugeText = fakePem('A'.repeat(MAX_KEY_BYTES + 1024));
  writeFileSync(oversize, hugeText);
  const size = Buffer.byteLength(hugeText);

  const fields = {
    name: 'keys',
    appid: 'wx2421b1c4370ec43b',
    mchid: '1900000109',
    v3: {
      notifyUrl: 'https://shop.example.com/wxpay/v3/notify',
      refundNotifyUrl: 'https://shop.example.com/wxpay/v3/refund-notify',
      apiV3Key: 'k3yK3yk3yK3yk3yK3yk3yK3yk3yK3y01',
      platform: { privateKeyFile: oversize, serial: 'PUB_KEY_ID_9999999900000000000000000000000001' },
    },
  } satisfies NotifyConfig;

  const problemsOf = async (load: () => unknown): Promise<ConfigError['problems']> => {
    try {
      await load();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('the config was accepted');
  };

  it('an oversize key file: the library caller gets the CLI’s error, naming the field, the file and its size', async () => {
    const file = join(dir, 'wxpay-notify.json');
    writeFileSync(file, JSON.stringify(fields));
    const cli = await problemsOf(() => loadConfig(file, {}));
    const library = await problemsOf(() => resolveConfig(fields));
    const expected = {
      path: 'v3.platform.privateKeyFile',
      message: `${oversize} is ${size} bytes, too large for a PEM private key; point this at the key file`,
    };
    expect(cli).toEqual([expected]);
    expect(library).toEqual([expected]);
  });

  it('PEM text given in code is held to the same bound', async () => {
    const pem = fakePem('A'.repeat(MAX_KEY_BYTES));
    const library = await problemsOf(() =>
      resolveConfig({
        ...fields,
        v3: { ...fields.v3, platform: { serial: fields.v3.platform.serial, privateKeyPem: pem } },
      }),
    );
    expect(library).toEqual([
      {
        path: 'v3.platform.privateKeyPem',
        message: `is ${Buffer.byteLength(pem)} bytes, too large for a PEM private key; give the key itself`,
      },
    ]);
  });
});
