import { execFileSync } from 'node:child_process';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_BOUNDS, readIterationData } from '../../src/runner/iteration-data.js';
import { validateConfig } from '../../src/config/validate-config.js';
import { UserError } from '../../src/shared/errors.js';
import { runSuite } from '../../src/commands/run.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { inert } from '../../src/shared/inert-text.js';
import { startSuite } from '../support/suite-fixture.js';
import { expectInert, expectNoSecret, HOSTILE_TEXT } from './support.js';

/**
 * Issue 18, class 5: `--data` is bounded and obeys the config's rules. The file is read within
 * DATA_BOUNDS (the issue's 300 MB file, /dev/zero and 5 MB cell end in one clear error, not in
 * gigabytes), and every row is checked by the config's own order rules, naming row and column.
 */

const API_KEY = 'k7Hq2Lm9Xw4Rt8Yp3Zs6Vb1Nc5Df0Gj!';
const ORDER = {
  outTradeNo: 'T20260101000001',
  total: 100,
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  transactionId: '4200000000000000000000000001',
  outRefundNo: 'R20260101000001',
  refundId: '50000000000000000000000000001',
  refund: 100,
};
const context = { order: ORDER, secrets: [API_KEY] };

const folder = (): string => mkdtempSync(join(tmpdir(), 'wxpay-data-'));
const file = (name: string, content: string | Buffer): string => {
  const path = join(folder(), name);
  writeFileSync(path, content);
  return path;
};
/** The message of the UserError `read` throws (it must throw one). */
function refusal(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    expectInert((error as Error).message, 'data error');
    expectNoSecret((error as Error).message, [API_KEY], 'data error');
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('a data file is bounded', () => {
  it("the issue's 300 MB file is refused before it is read", () => {
    const path = join(folder(), 'orders.csv');
    writeFileSync(path, 'out_trade_no,total\n');
    truncateSync(path, 300 * 1024 * 1024); // sparse: no disk used
    const rss = process.memoryUsage().rss;
    expect(refusal(() => readIterationData(path, context))).toMatch(
      /^--data .*orders\.csv is larger than 8 MB, the bound for a data file \(at most 10,000 rows\); split it into several runs$/,
    );
    // Nothing of it was held: far below the file's size (a generous bound for a loaded machine).
    expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 1024 * 1024);
  });

  it('/dev/zero, a folder and a named pipe are refused before a byte is read', () => {
    expect(refusal(() => readIterationData('/dev/zero', context))).toBe(
      '--data /dev/zero is a device, not a data file; save the rows to a .csv or .json file and pass its path',
    );
    expect(refusal(() => readIterationData(folder(), context))).toMatch(/ is a folder, not a data file/);
    const fifo = join(folder(), 'rows.csv');
    execFileSync('mkfifo', [fifo]);
    expect(refusal(() => readIterationData(fifo, context))).toMatch(/rows\.csv is a pipe, not a data file/);
  });

  it('one 5 MB cell ends the parse at the cell bound, naming row and column (CSV and JSON)', () => {
    const huge = 'x'.repeat(5 * 1024 * 1024);
    expect(
      refusal(() => readIterationData(file('o.csv', `out_trade_no,openid\nT20260101000001,${huge}\n`), context)),
    ).toMatch(/^--data .*o\.csv: row 1, column 2: a cell is longer than 1024 characters, the bound for a data cell$/);
    expect(refusal(() => readIterationData(file('o.csv', `out_trade_no,"${huge}"\n`), context))).toMatch(
      /the header row, column 2: a cell is longer than 1024/,
    );
    expect(refusal(() => readIterationData(file('o.json', JSON.stringify([{ openid: huge }])), context))).toMatch(
      /row 1, column "openid": the value is 5242880 characters, more than the 1024 a cell may hold/,
    );
  });

  it(`more than ${DATA_BOUNDS.maxRows} rows are refused`, () => {
    const rows = Array.from({ length: DATA_BOUNDS.maxRows + 1 }, (_, i) => `T${String(i).padStart(14, '0')},100`).join(
      '\n',
    );
    expect(refusal(() => readIterationData(file('o.csv', `out_trade_no,total\n${rows}\n`), context))).toMatch(
      /more than 10,000 rows; split the file/,
    );
  });

  it('a file that is not UTF-8 names the byte offset (never sent with U+FFFD)', () => {
    const before = Buffer.from('out_trade_no,openid\nT20260101000001,o\u00e9');
    const bytes = Buffer.concat([before, Buffer.from([0xff, 0x41]), Buffer.from('\n')]);
    expect(refusal(() => readIterationData(file('o.csv', bytes), context))).toContain(
      `is not valid UTF-8: the byte at offset ${before.length} is not part of a UTF-8 character; save the file as UTF-8`,
    );
    expect(before.length).toBe(39);
  });
});

describe("every row obeys the config's order rules, naming row and column", () => {
  it("refund 200 over total 100 (the issue's row) is refused", () => {
    expect(
      refusal(() =>
        readIterationData(
          file('o.csv', 'out_trade_no,total,refund\nT20260101000001,100,100\nT20260101000002,100,200\n'),
          context,
        ),
      ),
    ).toMatch(
      /o\.csv: row 2, column "refund": the refund amount \(退款金额 refund\) must not exceed the order amount \(订单金额 total\): 200 > 100 fen$/,
    );
  });

  it("a row's total below the config's refund says where the refund came from", () => {
    expect(
      refusal(() => readIterationData(file('o.csv', 'out_trade_no,total\nT20260101000001,50\n'), context)),
    ).toMatch(
      /row 1, column "refund": the refund amount .* 100 > 50 fen \(refund comes from the config's order\.refund: add a refund column\)/,
    );
  });

  it("NUL, ESC, DEL and C1 in a cell are refused by the config's control-character rule; the message shows no live character", () => {
    for (const [name, value] of Object.entries({
      nul: 'a\u0000b',
      esc: HOSTILE_TEXT.clearScreen,
      del: 'a\u007fb',
      c1: HOSTILE_TEXT.c1Csi,
    })) {
      const message = refusal(() => readIterationData(file('o.json', JSON.stringify([{ openid: value }])), context));
      expect(message, name).toMatch(
        /row 1, column "openid": contains a control character \(U\+00(00|1B|7F|9B)\); remove it/,
      );
    }
  });

  it('an escape sequence in a column name or file name is shown inert', () => {
    const name = `o${HOSTILE_TEXT.windowTitle}${HOSTILE_TEXT.bidiOverride}.csv`;
    const message = refusal(() =>
      readIterationData(file(name, `out_trade_no,${HOSTILE_TEXT.clipboard}\nT20260101000001,1\n`), context),
    );
    expect(message).toContain('\\u001b]0;owned\\u0007');
    expect(message).toMatch(
      /row 1, column ".*\\u001b\]52;c;.*": unknown column; allowed: out_trade_no, transaction_id, total, openid, out_refund_no, refund_id, refund/,
    );
  });

  it("formats as the config has them: the order number's form, whitespace, empty cells", () => {
    const message = refusal(() =>
      readIterationData(
        file('o.csv', "out_trade_no,openid\n=cmd|' /C calc'!A0,o1\nT2026,o2\nT20260101000003,\n"),
        context,
      ),
    );
    expect(message).toMatch(
      /row 1, column "out_trade_no": the order number \(商户订单号 out_trade_no\) must be 6 to 32 letters, digits or _ - \| \* \(got "=cmd\|' \/C calc'!A0"\)/,
    );
    expect(message).toMatch(/row 2, column "out_trade_no": the order number .* \(got "T2026"\)/);
    expect(message).toMatch(/row 3, column "openid": must not be empty/);
  });

  it("a cell holding the config's API key is refused without echoing it", () => {
    const message = refusal(() =>
      readIterationData(file('o.csv', `out_trade_no,openid\nT20260101000001,x${API_KEY}\n`), context),
    );
    expect(message).toMatch(
      /row 1, column "openid": holds a secret of this config \(an API key or a private key\); a key never goes into a notification: remove it/,
    );
  });

  it('${NAME} in a cell is text, never an environment variable', () => {
    process.env.WXPAY_ADVERSARIAL_SECRET = 'from-the-environment';
    expect(
      readIterationData(file('o.csv', 'out_trade_no,openid\nT20260101000001,${WXPAY_ADVERSARIAL_SECRET}\n'), context),
    ).toEqual([{ out_trade_no: 'T20260101000001', openid: '${WXPAY_ADVERSARIAL_SECRET}' }]);
    delete process.env.WXPAY_ADVERSARIAL_SECRET;
  });

  it('one contract: for every value, a data row and a config order agree on accepting it', () => {
    const values: Record<string, unknown[]> = {
      outTradeNo: [
        'T20260101000001',
        'T2026',
        'x'.repeat(33),
        'A_B-C|D*E',
        '=1+1',
        '@SUM(A1)',
        'T2026 0101',
        '订单20260101',
      ],
      openid: ['o1', '=HYPERLINK("x")', ' o1', 'a\tb', '\u202Eo1', '+1'],
      total: [1, 100, 0, -1, 1.5, 2 ** 53],
      refund: [1, 100, 101],
      outRefundNo: ['R1', 'R@1', 'R 1', 'x'.repeat(65)],
    };
    for (const [field, list] of Object.entries(values)) {
      for (const value of list) {
        // Cells are trimmed ("T1, 100" in hand-written CSV); the config is compared on what is sent.
        const order = { ...ORDER, [field]: typeof value === 'string' ? value.trim() : value };
        const config = validateConfig(
          {
            name: 'acme',
            appid: 'wx1',
            mchid: '1',
            v2: { notifyUrl: 'http://a/b', refundNotifyUrl: 'http://a/c', apiKey: API_KEY },
            order,
          },
          {},
        );
        const column = field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
        let rowAccepted = true;
        try {
          readIterationData(file('o.json', JSON.stringify([{ [column]: value }])), context);
        } catch (error) {
          if (!(error instanceof UserError)) throw error;
          rowAccepted = false;
        }
        // Two differences by design, tested above: cells are literal (no ${NAME}), and an amount
        // may be written as digits in a string (a CSV cell is nothing else).
        expect(rowAccepted, `${field} = ${inert(JSON.stringify(value))}`).toBe(config.problems.length === 0);
      }
    }
  });
});

describe('a bad row stops the run before anything is sent', () => {
  it('run --data with refund over total: exit 2 (UserError), the receiver got nothing', async () => {
    const suite = await startSuite();
    try {
      const data = file('orders.csv', 'out_trade_no,total,refund\nT20260101000001,100,200\n');
      const io = memoryIO();
      const error = await runSuite(
        suite.config,
        { format: 'table', reporters: [], reporterDir: '.', insecure: false, only: ['v2.refund.*'], data },
        io,
        'data',
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).exitCode).toBe(2);
      expect((error as Error).message).toMatch(/row 1, column "refund": .* 200 > 100 fen/);
      expect(suite.receiver.log).toHaveLength(0);
      expect(io.stdout).toBe('');
    } finally {
      await suite.close();
    }
  }, 60_000);
});
