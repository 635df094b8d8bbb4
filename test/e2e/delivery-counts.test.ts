import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSuite } from '../support/suite-fixture.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/shared/command-io.js';

/** Multi-delivery cases count every request the receiver saw, the concurrent copies included. */
describe('delivery counts', () => {
  it('table, JSON and HTML count the concurrent copies; the HTML total equals what the receiver saw', async () => {
    const suite = await startSuite();
    const dir = mkdtempSync(join(tmpdir(), 'wxpay-counts-'));
    try {
      const io = memoryIO();
      const only = ['v3.redelivery.concurrent', 'v3.keys.migration', 'v2.redelivery.sequential'];
      expect(
        await runSuite(
          suite.config,
          { format: 'table', reporters: ['json', 'html'], reporterDir: dir, insecure: false, only },
          io,
          'counts',
        ),
      ).toBe(0);
      expect(io.stdout).toMatch(/^v3\.redelivery\.concurrent\s+protocol\s+204\s+\d+ ms\s+PASS \(4\/4 acknowledged\)$/m);
      expect(io.stdout).toMatch(/^v3\.keys\.migration\s+protocol\s+204\s+\d+ ms\s+PASS \(4\/4 acknowledged\)$/m);
      expect(io.stdout).toMatch(/^v2\.redelivery\.sequential\s+protocol\s+200\s+\d+ ms\s+PASS \(2\/2 acknowledged\)$/m);
      const results = JSON.parse(readFileSync(join(dir, 'demo.results.json'), 'utf8'));
      expect(results.cases.map((c: any) => [c.caseId, c.deliveries, c.passed])).toEqual([
        ['v3.keys.migration', 4, 4],
        ['v2.redelivery.sequential', 2, 2],
        ['v3.redelivery.concurrent', 4, 4],
      ]);
      const html = readFileSync(join(dir, 'demo.report.html'), 'utf8');
      expect(suite.receiver.log).toHaveLength(10);
      expect(html).toContain('id="count-deliveries">10<');
      expect(html).toContain('PASS (4/4 acknowledged)');
    } finally {
      await suite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
