import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv, readIterationData } from '../../src/runner/iteration-data.js';
import { UserError } from '../../src/shared/errors.js';

const file = (name: string, text: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'data-')), name);
  writeFileSync(path, text);
  return path;
};

describe('run --data', () => {
  it('parses RFC 4180 CSV: quotes, doubled quotes, CRLF, BOM, blank lines', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\n\n1,2')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['1', '2'],
    ]);
    expect(readIterationData(file('o.csv', '\uFEFFout_trade_no,total\nT00001,100\nT00002,200\n'))).toEqual([
      { out_trade_no: 'T00001', total: '100' },
      { out_trade_no: 'T00002', total: '200' },
    ]);
  });

  it('accepts JSON arrays and config-style column names', () => {
    expect(readIterationData(file('o.json', '[{"outTradeNo":"T00001","total":5,"refund":5}]'))).toEqual([
      { out_trade_no: 'T00001', total: '5', refund: '5' },
    ]);
  });

  it('rejects bad rows with one line per problem, naming row and column', () => {
    const run = () => readIterationData(file('o.csv', 'out_trade_no,totl,total\nT1,1,0\nT2,1,abc\n'));
    expect(run).toThrow(UserError);
    expect(run).toThrow(/row 1, column "totl": unknown column; allowed: out_trade_no/);
    expect(run).toThrow(/row 2, column "totl": unknown column/);
    expect(() => readIterationData(file('o.csv', 'out_trade_no,total\nT00001,0\nT00002,abc\n'))).toThrow(
      /row 1, column "total": the order amount \(订单金额 total\) must be a positive whole number of fen \(分\), e\.g\. 100 for ¥1\.00 \(got 0\)\n.*row 2, column "total": expected a positive integer amount in fen \(分\), got string/,
    );
  });

  it('names the file on unreadable, empty or malformed input', () => {
    expect(() => readIterationData('/nonexistent/orders.csv')).toThrow(
      /cannot read --data \/nonexistent\/orders.csv: ENOENT/,
    );
    expect(() => readIterationData(file('e.csv', ''))).toThrow(/is empty; expected a header row/);
    expect(() => readIterationData(file('h.csv', 'out_trade_no\n'))).toThrow(/no data rows/);
    expect(() => readIterationData(file('b.json', '{"a":1}'))).toThrow(/must be a JSON array of objects/);
    expect(() => readIterationData(file('c.json', '[{'))).toThrow(/is not valid JSON/);
  });
});
