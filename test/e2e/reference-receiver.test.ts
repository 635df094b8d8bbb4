import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSuite, type SuiteFixture } from '../support/suite-fixture.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { selectCases } from '../../src/cases/select-cases.js';
import { collectionVariables } from '../../src/collection/variables.js';
import { caseOrder } from '../../src/collection/case-order.js';
import { CATALOGUE } from '../../src/cases/catalogue.js';
import { TEMPLATES_DIR } from '../../src/paths.js';

/** The whole suite with real newman against the reference receiver: every case must pass. */
describe('end to end: generated collection → newman → reference receiver', () => {
  let suite: SuiteFixture;
  let report: { totals: Record<string, number>; cases: { caseId: string; verdict: string; deliveries: number }[] };
  let code: number;

  beforeAll(async () => {
    suite = await startSuite();
    const io = memoryIO();
    code = await runSuite(
      suite.config,
      { format: 'json', reporters: [], reporterDir: '.', insecure: false },
      io,
      'e2e',
    );
    report = JSON.parse(io.stdout);
  }, 60_000);
  afterAll(async () => {
    await suite?.close();
  });

  it('passes every case of the catalogue, v2 and v3, and exits 0', () => {
    expect(report.cases.filter((c) => c.verdict !== 'pass')).toEqual([]);
    expect(report.cases.map((c) => c.caseId)).toEqual(selectCases(suite.config).map((c) => c.id));
    expect(report.totals).toEqual({
      passed: report.cases.length,
      failed: 0,
      skipped: 0,
      inconclusive: 0,
      advisory: 0,
      advisoryNotJudged: 0,
    });
    expect(code).toBe(0);
  });

  const orderOf = (id: string) =>
    caseOrder(
      suite.config.order,
      CATALOGUE.find((c) => c.id === id)!,
    );

  it("the receiver decrypts exactly the body the user sees in Postman (variables filled in, the case's own order numbers)", () => {
    const base = Object.fromEntries(collectionVariables(suite.config).map((v) => [v.key, v.value]));
    let vars: Record<string, string> = { ...base, ...orderOf('v3.pay.success') };
    const expected = (template: string) =>
      JSON.parse(
        readFileSync(join(TEMPLATES_DIR, template), 'utf8').replace(
          /\{\{(\w+)\}\}/g,
          (all, name: string) => vars[name] ?? (name.startsWith('wxpay_') ? 'SEND-TIME' : all),
        ),
      );
    const sendTime = (value: unknown) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/.test(String(value));

    const pay = suite.receiver.log.find((e) => e.version === 'v3' && e.kind === 'pay' && e.outcome === 'ack')!
      .notification as Record<string, unknown>;
    const payExpected = expected('v3/transaction-success.json');
    expect(sendTime(pay.success_time)).toBe(true);
    expect({ ...pay, success_time: 'SEND-TIME' }).toEqual(payExpected);

    const refund = suite.receiver.log.find((e) => e.version === 'v3' && e.kind === 'refund' && e.outcome === 'ack')!
      .notification as Record<string, unknown>;
    vars = { ...base, ...orderOf('v3.refund.success') };
    expect({ ...refund, success_time: 'SEND-TIME' }).toEqual(expected('v3/refund-success.json'));

    vars = { ...base, ...orderOf('v2.refund.success') };
    const v2refund = suite.receiver.log.find((e) => e.version === 'v2' && e.kind === 'refund' && e.outcome === 'ack')!
      .notification as Record<string, string>;
    expect(v2refund).toMatchObject({
      refund_status: 'SUCCESS',
      out_refund_no: vars.out_refund_no,
      refund_recv_accout: '支付用户零钱',
      total_fee: vars.total,
    });
    expect(v2refund.success_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('every case has its own order: only the copies of one case repeat an out_trade_no', () => {
    const notified = suite.receiver.log
      .filter((e) => e.outcome === 'ack')
      .map((e) => e.notification as Record<string, any>);
    const tradeNos = new Set(notified.map((n) => n.combine_out_trade_no ?? n.out_trade_no));
    const expected = new Set(
      selectCases(suite.config)
        .filter((c) => c.expect === 'ack')
        .map((c) => orderOf(c.id)[c.requires.includes('combine') ? 'combine_out_trade_no' : 'out_trade_no']),
    );
    expect(tradeNos).toEqual(expected);
    expect(expected.size).toBe(selectCases(suite.config).filter((c) => c.expect === 'ack').length);
  });

  it('amounts add up: cash_fee = total_fee − coupon_fee (no NO_CASH fields), payer_total = total − promotion', () => {
    const v2 = suite.receiver.log.find(
      (e) => e.version === 'v2' && (e.notification as Record<string, string>)?.coupon_fee,
    )!.notification as Record<string, string>;
    expect(Number(v2.cash_fee) + Number(v2.coupon_fee)).toBe(Number(v2.total_fee));
    expect(Number(v2.coupon_fee_0)).toBe(Number(v2.coupon_fee));
    expect(Number(v2.cash_fee)).toBeGreaterThan(0);
    expect(Object.keys(v2).filter((k) => k.startsWith('coupon_type') || k === 'settlement_total_fee')).toEqual([]);
    const v3 = suite.receiver.log.find((e) => (e.notification as Record<string, any>)?.promotion_detail)!
      .notification as {
      amount: { total: number; payer_total: number };
      promotion_detail: { amount: number }[];
    };
    expect(v3.amount.payer_total + v3.promotion_detail[0]!.amount).toBe(v3.amount.total);
    expect(v3.amount.payer_total).toBeGreaterThan(0);
  });

  it('v3 notification ids have the shape of real ones (version-5 UUID)', () => {
    const ids = suite.receiver.log.filter((e) => e.version === 'v3' && e.eventId).map((e) => e.eventId!);
    expect(ids.length).toBeGreaterThan(10);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('the receiver saw redeliveries as duplicates: processed once, acknowledged every time', () => {
    const duplicates = suite.receiver.log.filter((e) => e.duplicate);
    expect(duplicates.length).toBeGreaterThanOrEqual(4);
    expect(duplicates.every((e) => e.outcome === 'ack')).toBe(true);
  });

  it('every forged delivery was rejected by the receiver with a reason', () => {
    const rejected = suite.receiver.log.filter((e) => e.outcome === 'reject');
    expect(rejected.length).toBe(report.cases.filter((c) => c.caseId.includes('.forged.')).length);
    expect(rejected.every((e) => (e.reason ?? '').length > 0)).toBe(true);
  });
});
