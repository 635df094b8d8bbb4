import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTestKeys, type TestKeys } from '../../src/keys/generate-keys.js';
import { demoConfig } from '../../src/commands/demo.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import { receiverOptionsFromConfig } from '../../src/receiver/from-config.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import type { ReceiverOptions, StartedReceiver } from '../../src/receiver/types.js';

let cachedKeys: TestKeys | undefined;
/** RSA key generation is slow; one set of fresh test keys per test file is enough. */
export function testKeys(): TestKeys {
  cachedKeys ??= generateTestKeys();
  return cachedKeys;
}

export interface SuiteFixture {
  config: ResolvedConfig;
  receiver: StartedReceiver;
  close(): Promise<void>;
}

/**
 * A config for both API versions and both key modes aimed at a receiver on 127.0.0.1:0.
 * `start` lets a test put a faulty receiver in place of the reference one.
 */
export async function startSuite(
  options: {
    start?: (opts: ReceiverOptions) => Promise<StartedReceiver>;
    signType?: 'MD5' | 'HMAC-SHA256';
  } = {},
): Promise<SuiteFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-test-'));
  const keys = testKeys();
  const placeholder = demoConfig(keys, 'http://127.0.0.1:0', dir);
  const opts = receiverOptionsFromConfig(placeholder);
  const receiver = options.start
    ? await options.start(opts)
    : await startReceiver(opts, { host: '127.0.0.1', port: 0 });
  const config = demoConfig(keys, receiver.url, dir);
  if (options.signType) config.v2!.signType = options.signType;
  return {
    config,
    receiver,
    close: async () => {
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
