import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfig } from '../../src/commands/demo.js';
import { UserError } from '../../src/shared/errors.js';
import { checkLookupSpec, splitCommand } from '../../src/load/lookup-spec.js';
import {
  CONSECUTIVE_FAILURES_TO_STOP,
  MAX_LOOKUP_ANSWER_BYTES,
  reconcile,
  type SentRecord,
} from '../../src/load/reconcile.js';
import { receiverOptionsFromConfig, startReceiver, type RunningReceiver } from '../../src/receiver/index.js';
import { orderNotification, post } from '../support/order-notifications.js';
import { testKeys } from '../support/suite-fixture.js';

const config = demoConfig(testKeys(), 'http://127.0.0.1:1', '/nonexistent');

const pay = (n: number, extra: Partial<SentRecord> = {}): SentRecord => ({
  version: 'v3',
  kind: 'pay',
  outTradeNo: `T${n}`,
  transactionId: `4200${n}`,
  total: 100,
  acknowledged: true,
  deliveries: 1,
  ...extra,
});
const refund = (n: number, extra: Partial<SentRecord> = {}): SentRecord => ({
  ...pay(n),
  kind: 'refund',
  outRefundNo: `R${n}`,
  refundId: `5000${n}`,
  refund: 40,
  ...extra,
});

/** A lookup server whose answer per path the test decides; it counts requests in flight. */
async function lookupServer(
  answer: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; close: () => Promise<void>; maxInFlight: () => number; requests: string[] }> {
  let inFlight = 0;
  let max = 0;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    max = Math.max(max, ++inFlight);
    res.on('close', () => inFlight--);
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    maxInFlight: () => max,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const json = (res: ServerResponse, status: number, value: unknown): void =>
  void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));

describe('reconcile against the reference receiver (serve) lookup', () => {
  let receiver: RunningReceiver;
  beforeAll(async () => {
    // Every 4th processed notification is acknowledged and then lost.
    receiver = await startReceiver({ ...receiverOptionsFromConfig(config), faults: { dropEvery: 4 } });
  });
  afterAll(() => receiver.close());

  it('names exactly the acknowledged notifications the receiver lost, and checks amounts of the rest', async () => {
    const sent = [];
    for (let i = 1; i <= 8; i++) {
      const version = i % 2 ? 'v3' : 'v2';
      sent.push(orderNotification(config, version, i <= 4 ? 'pay' : 'refund', i));
    }
    for (const n of sent) {
      const answer = await post(receiver.url, n); // in order: the drop fault counts arrivals
      expect(answer.status).toBeLessThan(300);
    }
    const records = sent.map((n) => n.record);
    // What load would believe for one notification: another amount than the receiver got.
    records[1] = { ...records[1]!, total: 999 };
    // Not acknowledged: not checked (WeChat retries it), even though the lookup would find it.
    records.push({ ...records[2]!, acknowledged: false });

    const report = await reconcile(records, { url: `${receiver.url}/orders/{out_trade_no}` }, { concurrency: 3 });
    expect(report.checked).toBe(8);
    expect(receiver.records.dropped.map((d) => d.out_trade_no)).toEqual([
      sent[3]!.record.outTradeNo,
      sent[7]!.record.outTradeNo,
    ]);
    expect(report.lost.map((f) => f.record.outTradeNo)).toEqual([
      sent[3]!.record.outTradeNo,
      sent[7]!.record.outTradeNo,
    ]);
    expect(report.lost[0]!.detail).toBe(
      `acknowledged, but the lookup says payment ${sent[3]!.record.outTradeNo} was not recorded (HTTP 404)`,
    );
    // The refund's order has no payment recorded here: the order exists unpaid, the refund is missing.
    expect(report.lost[1]!.detail).toMatch(
      /^acknowledged, but the lookup says refund Rv2R000008 of Tv2R000008 was not recorded \(HTTP 404\)$/,
    );
    expect(report.recorded).toBe(6);
    expect(report.wrongAmount.map((f) => f.detail)).toEqual([
      `payment ${sent[1]!.record.outTradeNo} recorded with total 102 fen (分), notified 999`,
    ]);
    expect(report.duplicated).toEqual([]);
    expect(report.lookupErrors).toEqual([]);
  });

  it('the refund lookup (/refunds/{out_refund_no}) answers a refund on its own', async () => {
    const n = orderNotification(config, 'v3', 'refund', 20, { total: 300, refund: 120 });
    expect((await post(receiver.url, n)).status).toBe(204);
    const report = await reconcile([{ ...n.record, refund: 121 }], { url: `${receiver.url}/refunds/{out_refund_no}` });
    expect(report.wrongAmount.map((f) => f.detail)).toEqual([
      `refund ${n.record.outRefundNo} of ${n.record.outTradeNo} recorded with refund 120 fen (分), notified 121`,
    ]);
  });
});

describe('reconcile: processed more than once', () => {
  it('a receiver without idempotency processes each copy: the lookup says so and reconcile names it', async () => {
    const receiver = await startReceiver({ ...receiverOptionsFromConfig(config), faults: { notIdempotent: true } });
    try {
      const n = orderNotification(config, 'v3', 'pay', 30);
      await post(receiver.url, n);
      await post(receiver.url, n);
      const report = await reconcile([{ ...n.record, deliveries: 2 }], {
        url: `${receiver.url}/orders/{out_trade_no}`,
      });
      expect(report.duplicated.map((f) => f.detail)).toEqual([
        `payment ${n.record.outTradeNo} was processed 2 times (times_processed: 2); delivered 2 times`,
      ]);
      expect(report.recorded).toBe(1);
    } finally {
      await receiver.close();
    }
  });
});

describe('reconcile with a lookup command (no shell)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wxpay-lookup-'));
    // A stand-in for `psql -At`: prints the rows of a JSON "table" for the order, one per line,
    // and records the argv and environment it was given.
    writeFileSync(
      join(dir, 'lookup.mjs'),
      `import { readFileSync, appendFileSync } from 'node:fs';
const [table, id] = process.argv.slice(2);
appendFileSync(${JSON.stringify(join(dir, 'calls.log'))}, JSON.stringify({ argv: process.argv.slice(2), env: process.env.WXPAY_OUT_TRADE_NO, kind: process.env.WXPAY_KIND }) + '\\n');
if (id === 'TBROKEN') { process.stderr.write('ERROR:  relation "orders" does not exist\\u001b[31m\\n'); process.exit(2); }
for (const row of JSON.parse(readFileSync(table, 'utf8'))) if (row.out_trade_no === id) console.log(JSON.stringify(row));
`,
    );
    writeFileSync(
      join(dir, 'orders.json'),
      JSON.stringify([
        { out_trade_no: 'T1', total_fee: '100', status: 'PAID' },
        { out_trade_no: 'T2', total_fee: 100, status: 'NOTPAY' },
        { out_trade_no: 'T3', total_fee: 100, status: 'PAID' },
        { out_trade_no: 'T3', total_fee: 100, status: 'PAID' },
        { out_trade_no: 'T5', total_fee: '1.00', status: 'PAID' },
      ]),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads rows as JSON lines: none is lost, a pending status is lost, two rows are a duplicate, yuan is an error', async () => {
    const command = `node "${join(dir, 'lookup.mjs')}" '${join(dir, 'orders.json')}' {out_trade_no}`;
    const report = await reconcile(
      [pay(1), pay(2), pay(3), pay(4), pay(5), pay(0, { outTradeNo: 'TBROKEN' })],
      { command },
      { concurrency: 2 },
    );
    expect(report.checked).toBe(6);
    expect(report.recorded).toBe(2);
    expect(report.lost.map((f) => f.detail)).toEqual([
      'acknowledged, but the lookup says payment T2 was not recorded (status "NOTPAY")',
      'acknowledged, but the lookup says payment T4 was not recorded (the command printed nothing)',
    ]);
    expect(report.duplicated.map((f) => f.detail)).toEqual([
      'payment T3 was processed 2 times (2 rows); delivered 1 time',
    ]);
    expect(report.lookupErrors.map((f) => f.detail)).toEqual([
      `"node": total_fee is "1.00", not a whole number of fen (分); WeChat's amounts are in fen (1.00 元 = 100)`,
      '"node": exited with 2: "ERROR:  relation \\"orders\\" does not exist\\u001b[31m"',
    ]);
    const calls = readFileSync(join(dir, 'calls.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { argv: string[]; env: string; kind: string });
    expect(calls.find((c) => c.argv[1] === 'T1')).toEqual({
      argv: [join(dir, 'orders.json'), 'T1'],
      env: 'T1',
      kind: 'pay',
    });
  });

  it("never lets a value reach the command outside its argument, nor one outside WeChat's id alphabet", async () => {
    const marker = join(dir, 'pwned');
    const hostile = pay(9, { outTradeNo: `x'; touch ${marker}; echo '` });
    const report = await reconcile([hostile, pay(10, { outTradeNo: '-rf' })], {
      command: `node "${join(dir, 'lookup.mjs')}" '${join(dir, 'orders.json')}' {out_trade_no}`,
    });
    expect(report.lookupErrors.map((f) => f.detail)).toEqual([
      `out_trade_no has characters outside WeChat's id alphabet (0-9 A-Z a-z _ - | * @ .) or starts with "-"; not passed to the lookup command`,
      `out_trade_no has characters outside WeChat's id alphabet (0-9 A-Z a-z _ - | * @ .) or starts with "-"; not passed to the lookup command`,
    ]);
    expect(existsSync(marker)).toBe(false);
  });

  it('a program that does not exist, or one that hangs, is a clear lookup error within the timeout', async () => {
    const missing = await reconcile([pay(1)], { command: 'wxpay-no-such-program {out_trade_no}' });
    expect(missing.lookupErrors[0]!.detail).toBe(
      '"wxpay-no-such-program": no such program (the command runs without a shell: name the program, or its full path)',
    );
    const hang = join(dir, 'hang.mjs');
    writeFileSync(hang, 'setInterval(() => {}, 1000);');
    chmodSync(hang, 0o644);
    const slow = await reconcile([pay(1)], { command: `node ${hang} {out_trade_no}` }, { timeoutMs: 300 });
    expect(slow.lookupErrors[0]!.detail).toBe('"node": did not finish within 300 ms');
  });
});

describe('reconcile: hostile and broken lookup answers are findings, quoted inert', () => {
  let server: Awaited<ReturnType<typeof lookupServer>>;
  beforeAll(async () => {
    server = await lookupServer((req, res) => {
      const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      switch (id) {
        case 'HUGE':
          return void res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(`{"out_trade_no":"HUGE","pad":"${'x'.repeat(2 * MAX_LOOKUP_ANSWER_BYTES)}"}`);
        case 'SLOW':
          return void res.writeHead(200).write('{"out_trade_no":'); // and never ends
        case 'GARBAGE':
          return void res.writeHead(200).end('\x1b[2J\x1b]0;owned\x07<html>\r\nFake: line</html>');
        case 'DEEP':
          return void res.writeHead(200).end('['.repeat(5000) + ']'.repeat(5000));
        case 'E500':
          return void res
            .writeHead(500, { 'content-type': 'text/html' })
            .end('<html><body>Internal Server Error</body></html>');
        case 'MOVED':
          return void res.writeHead(302, { location: 'http://elsewhere.invalid/orders/MOVED' }).end();
        case 'EMPTY':
          return void res.writeHead(200).end();
        case 'OTHER':
          return json(res, 200, { out_trade_no: 'SOMEONE\u202eELSE', total_fee: 100 });
        case 'TEXT':
          return json(res, 200, 'recorded');
        case 'CAMEL':
          return json(res, 200, { outTradeNo: 'CAMEL', totalFee: '100', timesProcessed: 1, paid: true });
        case 'REFUNDLESS':
          return json(res, 200, { out_trade_no: 'REFUNDLESS', amount: { total: 100 } });
        case 'REFUNDS':
          return json(res, 200, {
            out_trade_no: 'REFUNDS',
            amount: { total: 100 },
            refunds: [{ out_refund_no: 'OTHER', amount: { refund: 40 } }],
          });
        default:
          return json(res, 404, { code: 'NOT_FOUND' });
      }
    });
  });
  afterAll(() => server.close());

  it('each answer gets one line saying what was wrong and what the lookup must answer', async () => {
    const ids = ['HUGE', 'SLOW', 'GARBAGE', 'DEEP', 'E500', 'MOVED', 'EMPTY', 'OTHER', 'TEXT', 'CAMEL'];
    const report = await reconcile(
      ids.map((id, i) => pay(i, { outTradeNo: id })),
      { url: `${server.url}/orders/{out_trade_no}` },
      { timeoutMs: 500 },
    );
    const url = (id: string): string => `GET "${server.url}/orders/${id}"`;
    expect(report.checked).toBe(10);
    expect(report.recorded).toBe(1); // CAMEL: liberal field names
    expect(report.lost).toEqual([]);
    expect(report.lookupErrors.map((f) => f.detail)).toEqual([
      `${url('HUGE')}: answer larger than 64 KiB; answer with this one order's fields`,
      `${url('SLOW')}: no complete answer within 500 ms`,
      `${url('GARBAGE')}: the answer is not JSON (it starts "\\u001b[2J\\u001b]0;owned\\u0007<html>\\u000d\\u000aFake: line</html>"); answer e.g. {"out_trade_no": …, "amount": {"total": …}}`,
      `${url('DEEP')}: answer is JSON nested more than 32 levels deep; answer the order's fields`,
      `${url('E500')}: answered HTTP 500 "<html><body>Internal Server Error</body></html>"; the lookup answers 200 with the record or 404`,
      `${url('MOVED')}: answered HTTP 302 to "http://elsewhere.invalid/orders/MOVED"; lookups do not follow redirects, give the final URL; the lookup answers 200 with the record or 404`,
      `${url('EMPTY')}: answered 200 with an empty body; answer the record as JSON, or 404 when there is none`,
      `${url('OTHER')}: answered for out_trade_no "SOMEONE\\u202eELSE", not OTHER; check the template's placeholder`,
      `${url('TEXT')}: answer is not a JSON object (or rows of objects); answer e.g. {"out_trade_no": …, "amount": {"total": …}}`,
    ]);
    // Nothing from an answer reaches a report raw: no control or bidi character survives.
    for (const f of report.lookupErrors) expect(f.detail).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
  });

  it('a refund must be shown by the answer: in its refunds list, or as the refund itself', async () => {
    const report = await reconcile([refund(1, { outTradeNo: 'REFUNDLESS' }), refund(2, { outTradeNo: 'REFUNDS' })], {
      url: `${server.url}/orders/{out_trade_no}`,
    });
    expect(report.lookupErrors.map((f) => f.detail)).toEqual([
      `GET "${server.url}/orders/REFUNDLESS": the answer shows no refund (no refunds list, out_refund_no or refund amount); for refund notifications the lookup must show the refund`,
    ]);
    expect(report.lost.map((f) => f.detail)).toEqual([
      `acknowledged, but the lookup says refund R2 of REFUNDS was not recorded (not among the order's 1 refunds)`,
    ]);
  });

  it('keeps to its concurrency, encodes values into the URL, and stops after a run of failures', async () => {
    const slow = await lookupServer((_req, res) => void setTimeout(() => json(res, 404, {}), 20));
    try {
      const report = await reconcile(
        Array.from({ length: 40 }, (_, i) => pay(i, { outTradeNo: `T${i}/../x?y#z` })),
        { url: `${slow.url}/orders/{out_trade_no}` },
        { concurrency: 3 },
      );
      expect(report.lost).toHaveLength(40);
      expect(slow.maxInFlight()).toBe(3);
      expect(slow.requests[0]).toBe('/orders/T0%2F..%2Fx%3Fy%23z');
    } finally {
      await slow.close();
    }

    const closed = await lookupServer(() => undefined);
    const deadUrl = closed.url;
    await closed.close();
    const dead = await reconcile(
      Array.from({ length: 60 }, (_, i) => pay(i)),
      { url: `${deadUrl}/orders/{out_trade_no}` },
      { concurrency: 4 },
    );
    expect(dead.checked).toBe(60);
    // Lookups already in flight when the run of failures was noticed still finish; the rest are not made.
    expect(dead.lookupErrors.filter((f) => f.detail.startsWith('not looked up')).length).toBeGreaterThanOrEqual(
      60 - CONSECUTIVE_FAILURES_TO_STOP - 4,
    );
    expect(dead.lookupErrors[0]!.detail).toBe(
      `GET "${deadUrl}/orders/T0": ECONNREFUSED (nothing listens there: is the lookup running?)`,
    );
    expect(dead.lookupErrors.at(-1)!.detail).toMatch(
      new RegExp(
        `^not looked up: the lookup failed ${CONSECUTIVE_FAILURES_TO_STOP} times in a row \\(last: GET .*ECONNREFUSED`,
      ),
    );
  });

  it("stops at the caller's signal and reports what was checked", async () => {
    const controller = new AbortController();
    async function* endless(): AsyncGenerator<SentRecord> {
      for (let i = 0; ; i++) {
        if (i === 5) controller.abort();
        yield pay(i, { outTradeNo: `N${i}` });
      }
    }
    const report = await reconcile(
      endless(),
      { url: `${server.url}/orders/{out_trade_no}` },
      { concurrency: 1, signal: controller.signal },
    );
    expect(report.checked).toBeLessThanOrEqual(5);
    expect(report.lost.length).toBe(report.checked);
  });
});

describe('checkLookupSpec: a wrong lookup is a usage error before anything is sent', () => {
  const problem = (spec: Parameters<typeof checkLookupSpec>[0]): string => {
    try {
      checkLookupSpec(spec);
    } catch (error) {
      expect(error).toBeInstanceOf(UserError);
      return (error as Error).message;
    }
    return 'accepted';
  };
  it.each([
    [{}, 'a lookup is either a URL template (--lookup) or a command template (--lookup-command): give exactly one'],
    [
      { url: 'http://x/{out_trade_no}', command: 'psql' },
      'a lookup is either a URL template (--lookup) or a command template (--lookup-command): give exactly one',
    ],
    [
      { url: 'ftp://x/{out_trade_no}' },
      '--lookup: must start with http:// or https://, e.g. http://127.0.0.1:8080/orders/{out_trade_no}',
    ],
    [
      { url: 'http://x/orders/{order_id}' },
      '--lookup: unknown placeholder {order_id}; use {out_trade_no}, {transaction_id}, {out_refund_no}, {refund_id}, {kind}, {version}',
    ],
    [
      { url: 'http://x/orders/latest' },
      '--lookup: name the order with a placeholder such as {out_trade_no}, or every lookup asks the same thing',
    ],
    [
      { command: 'psql -c "select 1" | jq .' },
      '--lookup-command: "|" outside quotes is shell syntax, and the lookup command runs without a shell; quote it, or put the pipeline in a script and read the values from $WXPAY_OUT_TRADE_NO…',
    ],
    [
      { command: "sh -c 'psql -v id={out_trade_no}'" },
      '--lookup-command: runs sh, and a placeholder in a shell script would be parsed as shell code; read the values from the environment instead ("$WXPAY_OUT_TRADE_NO", "$WXPAY_OUT_REFUND_NO"…)',
    ],
    [{ command: 'psql -c "select' }, '--lookup-command: a double quote is not closed'],
    [{ command: '{out_trade_no} x' }, '--lookup-command: the program (first word) cannot be a placeholder'],
  ])('%j', (spec, message) => {
    expect(problem(spec)).toBe(message);
  });

  it('splits a command as a shell splits words, and nothing more', () => {
    expect(
      splitCommand(
        `psql -At -v id={out_trade_no} -c "select row_to_json(o) from orders o where out_trade_no = :'id'" 'a b'\\ c`,
      ),
    ).toEqual([
      'psql',
      '-At',
      '-v',
      'id={out_trade_no}',
      '-c',
      "select row_to_json(o) from orders o where out_trade_no = :'id'",
      'a b c',
    ]);
    expect(
      splitCommand(
        `mysql -N -e "SELECT JSON_OBJECT('total_fee', total_fee) FROM orders WHERE out_trade_no = '{out_trade_no}'" shop`,
      ),
    ).toEqual([
      'mysql',
      '-N',
      '-e',
      "SELECT JSON_OBJECT('total_fee', total_fee) FROM orders WHERE out_trade_no = '{out_trade_no}'",
      'shop',
    ]);
    expect(checkLookupSpec({ command: 'sh ./lookup.sh' })).toEqual({ kind: 'command', argv: ['sh', './lookup.sh'] });
  });
});
