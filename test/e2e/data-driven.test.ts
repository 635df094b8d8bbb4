import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSuite } from '../support/suite-fixture.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { selectCases } from '../../src/cases/select-cases.js';
import { buildCollection } from '../../src/collection/build-collection.js';
import { buildEnvironment } from '../../src/collection/build-environment.js';
import { runCollection } from '../../src/runner/run-collection.js';

describe('run --data: one notification per row', () => {
  it('sends each order from the file, signed and judged, and reports the case over all rows', async () => {
    const suite = await startSuite();
    try {
      const data = join(mkdtempSync(join(tmpdir(), 'orders-')), 'orders.csv');
      writeFileSync(
        data,
        'out_trade_no,total,refund,transaction_id\nORDER0001,100,100,4200000000000000000000000101\nORDER0002,250,250,4200000000000000000000000102\nORDER0003,1,1,4200000000000000000000000103\n',
      );
      const io = memoryIO();
      const code = await runSuite(
        suite.config,
        {
          format: 'table',
          reporters: [],
          reporterDir: '.',
          insecure: false,
          only: ['v2.pay.success', 'v3.pay.success'],
          data,
        },
        io,
        'data',
      );
      expect(code).toBe(0);
      expect(io.stdout).toMatch(/^v3\.pay\.success\s+protocol\s+204\s+\d+ ms\s+PASS \(3\/3 acknowledged\)$/m);
      const v3 = suite.receiver.log
        .filter((e) => e.version === 'v3')
        .map((e) => e.notification as { out_trade_no: string; amount: { total: number } });
      expect(v3.map((n) => [n.out_trade_no, n.amount.total])).toEqual([
        ['ORDER0001', 100],
        ['ORDER0002', 250],
        ['ORDER0003', 1],
      ]);
      const v2 = suite.receiver.log
        .filter((e) => e.version === 'v2')
        .map((e) => (e.notification as Record<string, string>).total_fee);
      expect(v2).toEqual(['100', '250', '1']);
    } finally {
      await suite.close();
    }
  }, 60_000);

  it('an order number set in the environment is what every case sends (each case has its own otherwise)', async () => {
    const suite = await startSuite();
    try {
      const only = ['v2.pay.success', 'v3.pay.success', 'v3.pay.promotion'];
      const environment = buildEnvironment(suite.config, true) as { values: { key: string; value: string }[] };
      const run = async () => {
        suite.receiver.log.length = 0;
        await runCollection({
          collection: buildCollection(suite.config, selectCases(suite.config, { only })),
          environment,
        });
        return suite.receiver.log.map((e) => (e.notification as { out_trade_no: string }).out_trade_no);
      };
      const own = await run();
      expect(new Set(own).size).toBe(3);
      environment.values.push({ key: 'out_trade_no', value: 'MY-REAL-ORDER-1' });
      expect(await run()).toEqual(['MY-REAL-ORDER-1', 'MY-REAL-ORDER-1', 'MY-REAL-ORDER-1']);
    } finally {
      await suite.close();
    }
  }, 60_000);

  it('a data row whose total cannot hold a coupon skips the coupon cases with the reason, and sends the others', async () => {
    const suite = await startSuite();
    try {
      const data = join(mkdtempSync(join(tmpdir(), 'orders-')), 'orders.csv');
      writeFileSync(data, 'out_trade_no,total,refund\nONE-FEN-ORDER,1,1\n');
      const io = memoryIO();
      expect(
        await runSuite(
          suite.config,
          {
            format: 'json',
            reporters: [],
            reporterDir: '.',
            insecure: false,
            only: ['v3.pay.success', 'v3.pay.promotion'],
            data,
          },
          io,
          'data',
        ),
      ).toBe(1);
      const report = JSON.parse(io.stdout) as {
        cases: { caseId: string; verdict: string }[];
        deliveries: { caseId: string; error?: string }[];
      };
      expect(report.cases.map((c) => [c.caseId, c.verdict])).toEqual([
        ['v3.pay.success', 'pass'],
        ['v3.pay.promotion', 'skipped'],
      ]);
      expect(io.stdout).toContain('this case pays part of it with a coupon');
    } finally {
      await suite.close();
    }
  }, 60_000);
});
