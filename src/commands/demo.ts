import { join, resolve } from 'node:path';
import type { ExitCode } from '../shared/errors.js';
import type { ResolvedConfig } from '../config/types.js';
import { generateTestKeys, type TestKeys } from '../keys/generate-keys.js';
import { startReceiver } from '../receiver/start-receiver.js';
import { receiverOptionsFromConfig } from '../receiver/from-config.js';
import { writeFilesAtomic } from '../output/write-atomic.js';
import { generateFiles } from './generate-files.js';
import { runSuite } from './run.js';
import type { CommandIO } from '../shared/command-io.js';

/** The demo's throw-away folder (git-ignored): keys and the collection it ran, for a look in Postman. */
export const DEMO_DIR = '.wxpay-demo';

/** A config for the demo: both API versions, both key modes, the combined payment, every case, aimed at `baseUrl`. */
export function demoConfig(keys: TestKeys, baseUrl: string, dir: string): ResolvedConfig {
  return {
    name: 'demo',
    appid: 'wx2421b1c4370ec43b',
    mchid: '1900000109',
    v2: {
      notifyUrl: `${baseUrl}/wxpay/v2/notify`,
      refundNotifyUrl: `${baseUrl}/wxpay/v2/refund-notify`,
      apiKey: keys.apiKey,
      signType: 'HMAC-SHA256',
    },
    v3: {
      notifyUrl: `${baseUrl}/wxpay/v3/notify`,
      refundNotifyUrl: `${baseUrl}/wxpay/v3/refund-notify`,
      apiV3Key: keys.apiV3Key,
      platform: {
        privateKeyFile: join(dir, 'keys/wechatpay-test-public-key-private.pem'),
        privateKeyPem: keys.publicKey.privateKeyPem,
        serial: keys.publicKey.keyId,
      },
      platformCertificate: {
        privateKeyFile: join(dir, 'keys/wechatpay-test-cert-private.pem'),
        privateKeyPem: keys.certificate.privateKeyPem,
        serial: keys.certificate.serial,
      },
    },
    order: {
      outTradeNo: 'T20261127000001',
      total: 100,
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
      transactionId: '4200000000000000000000000001',
      outRefundNo: 'R20261127000001',
      refundId: '50000000000000000000000000001',
      refund: 100,
    },
    combine: {},
    configDir: dir,
  };
}

/**
 * `npm start`: fresh test keys, the reference receiver on an ephemeral loopback port, the whole
 * suite generated and run against it. Everything a user needs to see the tool work in one command.
 */
export async function demoCommand(
  io: CommandIO,
  options: { dir?: string; signal?: AbortSignal } = {},
): Promise<ExitCode> {
  const dir = resolve(options.dir ?? DEMO_DIR);
  const keys = generateTestKeys();
  io.addSecrets([keys.apiKey, keys.apiV3Key, keys.publicKey.privateKeyPem, keys.certificate.privateKeyPem]);
  // Bind first with a placeholder config: the URLs need the port the OS picks.
  const placeholder = demoConfig(keys, 'http://127.0.0.1:0', dir);
  const receiver = await startReceiver(receiverOptionsFromConfig(placeholder), { host: '127.0.0.1', port: 0 });
  try {
    const config = demoConfig(keys, receiver.url, dir);
    writeFilesAtomic([
      { path: config.v3!.platform!.privateKeyFile, content: keys.publicKey.privateKeyPem, mode: 0o600 },
      { path: config.v3!.platformCertificate!.privateKeyFile, content: keys.certificate.privateKeyPem, mode: 0o600 },
      ...generateFiles(config, { outDir: dir, withSecrets: true }),
    ]);
    io.out(
      `wxpay-notify demo: reference receiver (参考商户端) on ${receiver.url}, fresh test keys in ${DEMO_DIR}/\n\n`,
    );
    const code = await runSuite(
      config,
      { format: 'table', reporters: [], reporterDir: dir, insecure: false },
      io,
      'demo',
      options.signal,
    );
    if (options.signal?.aborted) return code;
    io.out(
      `\nThe collection that ran is ${DEMO_DIR}/demo.postman_collection.json (with its environment): import both into Postman to look around.\n`,
    );
    return code;
  } finally {
    await receiver.close();
  }
}
