import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startSuite } from '../support/suite-fixture.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/shared/command-io.js';

describe('a merchant test server wired to the real WeChat Pay keys instead of the test keys', () => {
  it('gets one note per API version grouping the rows, and forged cases are inconclusive', async () => {
    // "Real" keys: whatever the server trusts, it is not what the simulator signs with.
    const realPublicKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string;
    const suite = await startSuite({
      start: (opts) =>
        startReceiver({
          v2: { ...opts.v2!, apiKey: 'R'.repeat(32) },
          v3: {
            ...opts.v3!,
            apiV3Key: 'R'.repeat(32),
            publicKeys: Object.fromEntries(Object.keys(opts.v3!.publicKeys).map((serial) => [serial, realPublicKey])),
          },
        }),
    });
    try {
      const io = memoryIO();
      expect(
        await runSuite(suite.config, { format: 'table', reporters: [], reporterDir: '.', insecure: false }, io, 'keys'),
      ).toBe(1);
      const notes = io.stdout.split('\n').filter((l) => l.startsWith('Note '));
      expect(notes).toHaveLength(2);
      expect(notes[0]).toMatch(
        /^Note 1: \d+ genuine v3 notifications were refused .*answers name the signature or keys, so most likely the test server does not trust wxpay-notify's TEST keys.*trust-kit\/README\.md/,
      );
      expect(notes[1]).toMatch(/^Note 2: \d+ genuine v2 notifications were refused .*APIv2 key/);
      // The note groups the rows; each row keeps its own evidence and hint.
      expect(io.stdout).toMatch(
        /^v3\.pay\.success\s+protocol\s+401\s+.*FAIL\s+\[note 1\] got HTTP 401 with .*Rejected a genuine v3 notify/m,
      );
      expect(io.stdout).toMatch(
        /^v2\.pay\.success\s+protocol\s+200\s+.*FAIL\s+\[note 2\] got HTTP 200 with .*Rejected a genuine v2 payment notify/m,
      );
      // Forged deliveries are rejected too, but so is everything: that proves nothing.
      expect(io.stdout).toMatch(
        /^v3\.forged\.bad-signature\s+security\s+401\s+.*INCONCLUSIVE\s+could not judge: the genuine notification signed with PUB_KEY_ID_\w+ \(v3\.pay\.success\) was rejected too; fix that first/m,
      );
      expect(io.stdout).toMatch(/^0 passed, \d+ failed, 10 inconclusive, \d+ advisory findings/m);
    } finally {
      await suite.close();
    }
  }, 60_000);

  it('an unreachable receiver gets one note too', async () => {
    const suite = await startSuite();
    await suite.receiver.close();
    try {
      const io = memoryIO();
      expect(
        await runSuite(
          suite.config,
          { format: 'table', reporters: [], reporterDir: '.', insecure: false, only: ['v2.pay.*', 'v3.pay.*'] },
          io,
          'down',
        ),
      ).toBe(1);
      expect(io.stdout).toMatch(/^Note 1: No case got an answer \(conn-refused\): Connection refused/m);
      expect(io.stdout).toMatch(
        /^v2\.pay\.success\s+protocol\s+no answer\s+-\s+FAIL\s+\[note 1\] ECONNREFUSED: .*Connection refused/m,
      );
    } finally {
      await suite.close();
    }
  }, 60_000);
});
