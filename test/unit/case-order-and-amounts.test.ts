import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/cases/catalogue.js';
import { MIN_TOTAL_WITH_COUPON, selectCases } from '../../src/cases/select-cases.js';
import { caseCode, caseOrder, withCaseCode } from '../../src/collection/case-order.js';
import { ORDER_DEFAULTS } from '../../src/config/validate-config.js';
import { UserError } from '../../src/shared/errors.js';
import { demoConfig } from '../../src/commands/demo.js';
import { bundleScript, loadSandboxFunctions } from '../../src/sandbox/bundle.js';
import { sandboxConstants } from '../../src/collection/sandbox-scripts.js';
import { parseFlatXml } from '../../src/protocol/v2/flat-xml.js';
import type { OrderConfig } from '../../src/config/types.js';
import type { TestKeys } from '../../src/keys/generate-keys.js';

const ORDER: OrderConfig = {
  outTradeNo: 'T20261127000001',
  total: 100,
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  transactionId: '4200000000000000000000000001',
  outRefundNo: 'R20261127000001',
  refundId: '50000000000000000000000000001',
  refund: 100,
};
const sandbox = loadSandboxFunctions(bundleScript('prerequest', sandboxConstants('prerequest')));

describe('one order per case', () => {
  it('every case gets its own numbers, the same on every generation, shaped like the configured ones', () => {
    const orders = CATALOGUE.map((c) => caseOrder(ORDER, c));
    const tradeNos = orders.flatMap((o) => [o.out_trade_no, o.out_trade_no_2, o.combine_out_trade_no].filter(Boolean));
    expect(new Set(tradeNos).size).toBe(tradeNos.length);
    expect(new Set(orders.map((o) => o.transaction_id)).size).toBe(CATALOGUE.length);
    expect(new Set(orders.map((o) => o.out_refund_no)).size).toBe(CATALOGUE.length);
    expect(CATALOGUE.map((c) => caseOrder(ORDER, c))).toEqual(orders);
    for (const o of orders) {
      expect(o.out_trade_no).toMatch(/^T20261127\d{6}$/);
      expect(o.transaction_id).toMatch(/^4200000000000000000000\d{6}$/);
      expect(o.refund_id).toHaveLength(ORDER.refundId.length);
    }
    expect(
      caseOrder(
        ORDER,
        CATALOGUE.find((c) => c.id === 'v3.pay.combine')!,
      ),
    ).toHaveProperty('combine_out_trade_no');
    expect(
      caseOrder(
        ORDER,
        CATALOGUE.find((c) => c.id === 'v3.pay.success')!,
      ),
    ).not.toHaveProperty('combine_out_trade_no');
  });

  it("a short configured number gets the code appended, within out_trade_no's 32 characters", () => {
    expect(withCaseCode('ORDER1', '123456')).toBe('ORDER1123456');
    expect(withCaseCode('A'.repeat(32), '123456')).toBe('A'.repeat(26) + '123456');
    expect(caseCode('v2.pay.success')).toMatch(/^\d{6}$/);
  });
});

describe('amounts that add up', () => {
  it('the coupon is a tenth of the total (at least 1 fen) and the payer pays the rest', () => {
    expect(sandbox.notifyAmountVariables!('100')).toEqual({
      variables: { wxpay_coupon_fee: '10', wxpay_cash_fee: '90' },
    });
    expect(sandbox.notifyAmountVariables!('32900')).toEqual({
      variables: { wxpay_coupon_fee: '3290', wxpay_cash_fee: '29610' },
    });
    expect(sandbox.notifyAmountVariables!('2')).toEqual({ variables: { wxpay_coupon_fee: '1', wxpay_cash_fee: '1' } });
    expect(sandbox.notifyAmountVariables!('1').error).toContain('at least 2 fen');
    expect(sandbox.notifyAmountVariables!('{{total}}').error).toContain('"{{total}}"');
  });

  it('the sandbox and the config check agree on the smallest total a coupon case can have', () => {
    for (let total = 1; total <= 50; total++) {
      const { variables, error } = sandbox.notifyAmountVariables!(String(total));
      expect(error === undefined, `total ${total}`).toBe(total >= MIN_TOTAL_WITH_COUPON);
      if (variables) expect(Number(variables.wxpay_coupon_fee) + Number(variables.wxpay_cash_fee)).toBe(total);
      if (variables) expect(Number(variables.wxpay_cash_fee)).toBeGreaterThan(0);
    }
    expect(ORDER_DEFAULTS.total).toBeGreaterThanOrEqual(MIN_TOTAL_WITH_COUPON);
  });

  it('refuses a config whose total cannot hold a coupon, naming the field and the cases; without those cases it runs', () => {
    const keys = {
      apiKey: 'k'.repeat(32),
      apiV3Key: 'v'.repeat(32),
      publicKey: { privateKeyPem: '', keyId: 'PUB_KEY_ID_1' },
      certificate: { privateKeyPem: '', serial: 'AB' },
    } as unknown as TestKeys;
    const config = demoConfig(keys, 'http://127.0.0.1:1', '/tmp');
    config.order.total = 1;
    config.order.refund = 1;
    let error: unknown;
    try {
      selectCases(config);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(
      'order.total is 1 fen, too little for v2.pay.extra-fields and v3.pay.promotion: they pay part of the order with a coupon (cash_fee = total_fee − coupon_fee, at least 1 fen each); set order.total to 2 or more (e.g. 100), or leave them out with --only',
    );
    expect(selectCases(config, { only: ['v2.pay.success', 'v3.pay.success'] }).map((c) => c.id)).toEqual([
      'v2.pay.success',
      'v3.pay.success',
    ]);
  });
});

describe('the v2 XML as WeChat lays it out', () => {
  it('payment: a newline after every field, values in CDATA as the template writes them, sign and sign_type in CDATA where their names sort', () => {
    // As in the captures (WxJava issues 1585 and 1671, templates/EVIDENCE.md): sign between result_code and time_end.
    const template =
      '<xml>\n  <appid><![CDATA[wx1]]></appid>\n  <cash_fee><![CDATA[90]]></cash_fee>\n  <result_code><![CDATA[SUCCESS]]></result_code>\n  <total_fee>100</total_fee>\n</xml>';
    const body = sandbox.buildV2Payment!({ signType: 'MD5', signTypeField: true }, template, 'k'.repeat(32));
    expect(body).toMatch(
      /^<xml><appid><!\[CDATA\[wx1\]\]><\/appid>\n<cash_fee><!\[CDATA\[90\]\]><\/cash_fee>\n<result_code><!\[CDATA\[SUCCESS\]\]><\/result_code>\n<sign><!\[CDATA\[[0-9A-F]{32}\]\]><\/sign>\n<sign_type><!\[CDATA\[MD5\]\]><\/sign_type>\n<total_fee>100<\/total_fee>\n<\/xml>$/,
    );
    expect(parseFlatXml(body).fields).toMatchObject({
      appid: 'wx1',
      cash_fee: '90',
      total_fee: '100',
      sign_type: 'MD5',
    });
  });
});
