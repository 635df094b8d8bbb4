import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startSuite } from '../support/suite-fixture.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/commands/io.js';

describe('a merchant test server wired to the real WeChat Pay keys instead of the test keys', () => {
  it('gets one clear note per API version, not a red line with its own hint per case', async () => {
    // "Real" keys: whatever the server trusts, it is not what the simulator signs with.
    const realPublicKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const suite = await startSuite({
      start: (opts) => startReceiver({
        v2: { ...opts.v2!, apiKey: 'R'.repeat(32) },
        v3: { ...opts.v3!, apiV3Key: 'R'.repeat(32), publicKeys: Object.fromEntries(Object.keys(opts.v3!.publicKeys).map((serial) => [serial, realPublicKey])) },
      }),
    });
    try {
      const io = memoryIO();
      expect(await runSuite(suite.config, { format: 'table', reporters: [], reporterDir: '.', insecure: false }, io, 'keys')).toBe(1);
      const notes = io.stdout.split('\n').filter((l) => l.startsWith('Note '));
      expect(notes).toHaveLength(2);
      expect(notes[0]).toMatch(/^Note 1: Every genuine v3 notification was rejected .*does not trust wxpay-notify's TEST keys.*trust-kit\/README\.md/);
      expect(notes[1]).toMatch(/^Note 2: Every genuine v2 notification was rejected .*APIv2 key/);
      expect(io.stdout).toMatch(/^v3\.pay\.success\s+401\s+.*FAIL\s+see note 1 above$/m);
      expect(io.stdout).toMatch(/^v2\.pay\.success\s+200\s+.*FAIL\s+see note 2 above$/m);
      // Forged deliveries are still rejected, so those cases pass: the server does verify.
      expect(io.stdout).toMatch(/^v3\.forged\.bad-signature\s+401\s+.*PASS$/m);
    } finally {
      await suite.close();
    }
  }, 60_000);

  it('an unreachable receiver gets one note too', async () => {
    const suite = await startSuite();
    await suite.receiver.close();
    try {
      const io = memoryIO();
      expect(await runSuite(suite.config, { format: 'table', reporters: [], reporterDir: '.', insecure: false, only: ['v2.pay.*', 'v3.pay.*'] }, io, 'down')).toBe(1);
      expect(io.stdout).toMatch(/^Note 1: No case got an answer \(conn-refused\): Connection refused/m);
      expect(io.stdout).toMatch(/^v2\.pay\.success\s+no answer\s+-\s+FAIL\s+see note 1 above$/m);
    } finally {
      await suite.close();
    }
  }, 60_000);
});
