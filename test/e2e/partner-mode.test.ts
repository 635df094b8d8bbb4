import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSuite, type SuiteFixture } from '../support/suite-fixture.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/commands/io.js';

describe('partner (服务商) mode: sp_/sub_ fields in v2 and v3, payment and refund', () => {
  let suite: SuiteFixture;
  beforeAll(async () => { suite = await startSuite(); });
  afterAll(async () => { await suite?.close(); });

  async function run(subAppid: string | undefined) {
    suite.receiver.log.length = 0;
    suite.config.partner = { spAppid: 'wx8888888888888888', spMchid: '1900000100', subMchid: '1900000109', ...(subAppid ? { subAppid } : {}) };
    const io = memoryIO();
    const code = await runSuite(suite.config, { format: 'json', reporters: [], reporterDir: '.', insecure: false, only: ['v2.pay.success', 'v2.refund.success', 'v3.pay.success', 'v3.refund.success'] }, io, 'partner');
    return { code, report: JSON.parse(io.stdout), log: suite.receiver.log };
  }

  it('with a sub-merchant appid: every case passes and the receiver decodes the partner fields', async () => {
    const { code, report, log } = await run('wx9999999999999999');
    expect(report.cases.map((c: any) => `${c.caseId}:${c.verdict}`)).toEqual(['v2.pay.success:pass', 'v2.refund.success:pass', 'v3.pay.success:pass', 'v3.refund.success:pass']);
    expect(code).toBe(0);
    const v2pay = log.find((e) => e.version === 'v2' && e.kind === 'pay')!.notification as Record<string, string>;
    expect(v2pay).toMatchObject({ appid: 'wx8888888888888888', mch_id: '1900000100', sub_appid: 'wx9999999999999999', sub_mch_id: '1900000109' });
    const v3pay = log.find((e) => e.version === 'v3' && e.kind === 'pay')!.notification as Record<string, any>;
    expect(v3pay).toMatchObject({ sp_appid: 'wx8888888888888888', sp_mchid: '1900000100', sub_appid: 'wx9999999999999999', sub_mchid: '1900000109' });
    expect(v3pay).not.toHaveProperty('appid');
    expect(v3pay).not.toHaveProperty('mchid');
    expect(Object.keys(v3pay.payer).sort()).toEqual(['sp_openid', 'sub_openid']);
    const v3refund = log.find((e) => e.version === 'v3' && e.kind === 'refund')!.notification as Record<string, any>;
    expect(v3refund).toMatchObject({ sp_mchid: '1900000100', sub_mchid: '1900000109' });
    expect(v3refund).not.toHaveProperty('mchid');
  }, 30_000);

  it('without a sub-merchant appid: no sub_appid or sub_openid is sent', async () => {
    const { code, log } = await run(undefined);
    expect(code).toBe(0);
    const v2pay = log.find((e) => e.version === 'v2' && e.kind === 'pay')!.notification as Record<string, string>;
    expect(v2pay).not.toHaveProperty('sub_appid');
    expect(v2pay).not.toHaveProperty('sub_openid');
    const v3pay = log.find((e) => e.version === 'v3' && e.kind === 'pay')!.notification as Record<string, any>;
    expect(v3pay).not.toHaveProperty('sub_appid');
    expect(Object.keys(v3pay.payer)).toEqual(['sp_openid']);
  }, 30_000);
});
