import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSuite, type SuiteFixture } from '../support/suite-fixture.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/shared/command-io.js';

// Every case with a partner template variant, and the refunds (partner outer fields).
const ONLY = [
  'v2.pay.success',
  'v2.pay.extra-fields',
  'v2.pay.result-fail',
  'v2.refund.success',
  'v3.pay.success',
  'v3.pay.promotion',
  'v3.pay.combine',
  'v3.refund.success',
  'v2.robust.edge-whitespace',
  'v2.robust.non-ascii',
  'v3.robust.non-ascii',
];

describe('partner (服务商) mode: sp_/sub_ fields in v2 and v3, payment and refund', () => {
  let suite: SuiteFixture;
  beforeAll(async () => {
    suite = await startSuite();
  });
  afterAll(async () => {
    await suite?.close();
  });

  async function run(subAppid: string | undefined) {
    suite.receiver.log.length = 0;
    suite.config.partner = {
      spAppid: 'wx8888888888888888',
      spMchid: '1900000100',
      subMchid: '1900000109',
      ...(subAppid ? { subAppid } : {}),
    };
    const io = memoryIO();
    const code = await runSuite(
      suite.config,
      { format: 'json', reporters: [], reporterDir: '.', insecure: false, only: ONLY },
      io,
      'partner',
    );
    return { code, report: JSON.parse(io.stdout), log: suite.receiver.log };
  }

  it('with a sub-merchant appid: every case passes and the receiver decodes the partner fields', async () => {
    const { code, report, log } = await run('wx9999999999999999');
    expect(report.cases.map((c: any) => `${c.caseId}:${c.verdict}`).sort()).toEqual(
      ONLY.map((id) => `${id}:pass`).sort(),
    );
    expect(code).toBe(0);
    const v2pay = log.find((e) => e.version === 'v2' && e.kind === 'pay')!.notification as Record<string, string>;
    expect(v2pay).toMatchObject({
      appid: 'wx8888888888888888',
      mch_id: '1900000100',
      sub_appid: 'wx9999999999999999',
      sub_mch_id: '1900000109',
    });
    const v3pay = log.find((e) => e.version === 'v3' && e.kind === 'pay')!.notification as Record<string, any>;
    expect(v3pay).toMatchObject({
      sp_appid: 'wx8888888888888888',
      sp_mchid: '1900000100',
      sub_appid: 'wx9999999999999999',
      sub_mchid: '1900000109',
    });
    expect(v3pay).not.toHaveProperty('appid');
    expect(v3pay).not.toHaveProperty('mchid');
    expect(Object.keys(v3pay.payer).sort()).toEqual(['sp_openid', 'sub_openid']);
    // The payer has one openid per appid: a handler that reads the wrong one sees a stranger.
    expect(v3pay.payer.sub_openid).not.toBe(v3pay.payer.sp_openid);
    expect(v3pay.payer.sub_openid).toMatch(/^o[\w-]{27}$/);
    expect(v2pay.sub_openid).not.toBe(v2pay.openid);
    const combine = log.find((e) => e.version === 'v3' && (e.notification as any)?.combine_out_trade_no)!
      .notification as Record<string, any>;
    expect(combine).toMatchObject({ combine_appid: 'wx8888888888888888', combine_mchid: '1900000100' });
    expect(combine.sub_orders).toHaveLength(2);
    for (const sub of combine.sub_orders) expect(sub).toMatchObject({ mchid: '1900000100', sub_mchid: '1900000109' });
    // sub_appid/sub_openid only where that sub-order was placed with one (templates/EVIDENCE.md).
    const [first, second] = combine.sub_orders;
    expect(first).toMatchObject({ sub_appid: 'wx9999999999999999' });
    expect(first.sub_openid).not.toBe(combine.combine_payer_info.openid);
    expect(second).not.toHaveProperty('sub_appid');
    expect(second).not.toHaveProperty('sub_openid');
    expect(combine.sub_orders[0].out_trade_no).not.toBe(combine.sub_orders[1].out_trade_no);
    const v3refund = log.find((e) => e.version === 'v3' && e.kind === 'refund')!.notification as Record<string, any>;
    expect(v3refund).toMatchObject({ sp_mchid: '1900000100', sub_mchid: '1900000109' });
    expect(v3refund).not.toHaveProperty('mchid');
  }, 30_000);

  it('without a sub-merchant appid: no sub_appid or sub_openid is sent', async () => {
    const { code, report, log } = await run(undefined);
    expect(report.cases.filter((c: any) => c.verdict !== 'pass')).toEqual([]);
    expect(code).toBe(0);
    const v2pay = log.find((e) => e.version === 'v2' && e.kind === 'pay')!.notification as Record<string, string>;
    expect(v2pay).not.toHaveProperty('sub_appid');
    expect(v2pay).not.toHaveProperty('sub_openid');
    const v3pay = log.find((e) => e.version === 'v3' && e.kind === 'pay')!.notification as Record<string, any>;
    expect(v3pay).not.toHaveProperty('sub_appid');
    expect(Object.keys(v3pay.payer)).toEqual(['sp_openid']);
    const combine = log.find((e) => e.version === 'v3' && (e.notification as any)?.combine_out_trade_no)!
      .notification as Record<string, any>;
    for (const sub of combine.sub_orders) {
      expect(sub).not.toHaveProperty('sub_appid');
      expect(sub).not.toHaveProperty('sub_openid');
    }
  }, 30_000);
});
