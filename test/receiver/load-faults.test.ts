import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfig } from '../../src/commands/demo.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { faultsFromArgs, serveCommand } from '../../src/commands/serve.js';
import { UserError } from '../../src/shared/errors.js';
import { judge } from '../../src/library/judge.js';
import { reconcile } from '../../src/load/reconcile.js';
import { createSlowdown } from '../../src/receiver/faults.js';
import {
  receiverOptionsFromConfig,
  startReceiver,
  type ReceiverFaults,
  type RunningReceiver,
} from '../../src/receiver/index.js';
import { ACK_TIME_LIMIT_MS } from '../../src/protocol/constants.js';
import { orderNotification, post, type OrderNotification } from '../support/order-notifications.js';
import { testKeys } from '../support/suite-fixture.js';

/**
 * The reference receiver's fault switches (issue 20), each shown by a real request sequence: what
 * a merchant's handler does wrong under load, made deterministic so load and its demo find it.
 */
const keys = testKeys();
const config = demoConfig(keys, 'http://127.0.0.1:1', '/nonexistent');

async function withReceiver(faults: ReceiverFaults, body: (receiver: RunningReceiver) => Promise<void>): Promise<void> {
  const receiver = await startReceiver({ ...receiverOptionsFromConfig(config), faults });
  try {
    await body(receiver);
  } finally {
    await receiver.close();
  }
}

const getJson = (url: string): Promise<{ status: number; body: unknown }> =>
  new Promise((resolve, reject) => {
    request(url, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    })
      .on('error', reject)
      .end();
  });

describe('the lookup: what the reference receiver recorded', () => {
  it('answers each order with its amount, refunds and times processed; a copy is not processed again', async () => {
    await withReceiver({}, async (receiver) => {
      const payment = orderNotification(config, 'v3', 'pay', 1, { total: 250 });
      const refund = orderNotification(config, 'v2', 'refund', 1, { total: 250, refund: 100 });
      const sameOrder = orderNotification(config, 'v3', 'refund', 2, { total: 250, refund: 100 });
      expect((await post(receiver.url, payment)).status).toBe(204);
      expect((await post(receiver.url, payment)).status).toBe(204); // WeChat's duplicate
      expect((await post(receiver.url, refund)).status).toBe(200);
      expect((await post(receiver.url, sameOrder)).status).toBe(204);

      expect(await getJson(`${receiver.url}/orders/${payment.record.outTradeNo}`)).toEqual({
        status: 200,
        body: {
          out_trade_no: 'Tv3P000001',
          transaction_id: '42000v3P000001',
          trade_state: 'SUCCESS',
          amount: { total: 250 },
          times_processed: 1,
          refunds: [],
        },
      });
      expect(await getJson(`${receiver.url}/refunds/${refund.record.outRefundNo}`)).toEqual({
        status: 200,
        body: {
          out_trade_no: 'Tv2R000001',
          out_refund_no: 'Rv2R000001',
          refund_id: '50000v2R000001',
          refund_status: 'SUCCESS',
          amount: { refund: 100, total: 250 },
          times_processed: 1,
        },
      });
      // A refund whose payment was never recorded: the order exists, unpaid, with its refund.
      expect(await getJson(`${receiver.url}/orders/Tv3R000002`)).toMatchObject({
        status: 200,
        body: { trade_state: 'NOTPAY', refunds: [{ out_refund_no: 'Rv3R000002' }] },
      });
      expect(await getJson(`${receiver.url}/orders/NOPE`)).toEqual({
        status: 404,
        body: { code: 'NOT_FOUND', message: 'no notification recorded for out_trade_no NOPE' },
      });
      expect(await getJson(`${receiver.url}/orders/%E0%A4%A`)).toMatchObject({ status: 400 });
    });
  });
});

describe('fault switch: drop records after acknowledging', () => {
  const send = async (receiver: RunningReceiver, count: number): Promise<OrderNotification[]> => {
    const sent: OrderNotification[] = [];
    for (let i = 1; i <= count; i++) {
      const n = orderNotification(config, i % 2 ? 'v3' : 'v2', 'pay', i);
      const answer = await post(receiver.url, n);
      expect(answer.status).toBeLessThan(300); // every one acknowledged…
      sent.push(n);
    }
    return sent;
  };

  it('dropEvery 3: the lookup says not recorded for exactly the 3rd, 6th and 9th order', async () => {
    await withReceiver({ dropEvery: 3 }, async (receiver) => {
      const sent = await send(receiver, 10);
      const missing = [];
      for (const n of sent)
        if ((await getJson(`${receiver.url}/orders/${n.record.outTradeNo}`)).status === 404)
          missing.push(n.record.outTradeNo);
      expect(missing).toEqual(['Tv3P000003', 'Tv2P000006', 'Tv3P000009']);
      expect(receiver.log.filter((e) => e.fault).map((e) => e.fault)).toEqual([
        'acknowledged, then lost the record of out_trade_no Tv3P000003 (1 record in 3 dropped)',
        'acknowledged, then lost the record of out_trade_no Tv2P000006 (1 record in 3 dropped)',
        'acknowledged, then lost the record of out_trade_no Tv3P000009 (1 record in 3 dropped)',
      ]);
      const report = await reconcile(
        sent.map((n) => n.record),
        { url: `${receiver.url}/orders/{out_trade_no}` },
      );
      expect(report.lost.map((f) => f.record.outTradeNo)).toEqual(missing);
    });
  });

  it('dropShare with a seed loses the same records every time, and reconcile names each', async () => {
    const lostWith = async (seed: number): Promise<string[]> => {
      let lost: string[] = [];
      await withReceiver({ dropShare: 0.25, seed }, async (receiver) => {
        const sent = await send(receiver, 24);
        const report = await reconcile(
          sent.map((n) => n.record),
          { url: `${receiver.url}/orders/{out_trade_no}` },
        );
        lost = report.lost.map((f) => f.record.outTradeNo);
        expect(lost).toEqual(receiver.records.dropped.map((d) => d.out_trade_no));
      });
      return lost;
    };
    const first = await lostWith(7);
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(24);
    expect(await lostWith(7)).toEqual(first);
    expect(await lostWith(8)).not.toEqual(first);
  });
});

describe('fault switch: two copies race', () => {
  it('the copy arriving while the first is processed gets 500 with the database words; the judge calls it a duplicate-order refusal', async () => {
    await withReceiver({ race: { windowMs: 300 } }, async (receiver) => {
      const n = orderNotification(config, 'v3', 'pay', 40);
      const [a, b] = await Promise.all([post(receiver.url, n), post(receiver.url, n)]);
      const statuses = [a.status, b.status].sort();
      expect(statuses).toEqual([204, 500]);
      const refused = a.status === 500 ? a : b;
      expect(JSON.parse(refused.body)).toEqual({
        code: 'FAIL',
        message: `Duplicate entry 'EV-v3P000040' for key 'uniq_notify_id'`,
      });
      // The same judge as run and load: a genuine notification refused, for a duplicate.
      const verdict = judge('v3.pay.success', {
        status: refused.status,
        body: refused.body,
        headers: { 'content-type': 'application/json' },
        timeMs: refused.ms,
      });
      expect(verdict.pass).toBe(false);
      expect(verdict.cause).toBe('duplicate-order');
      // A copy after the window is a plain duplicate: acknowledged, processed once.
      expect((await post(receiver.url, n)).status).toBe(204);
      expect((await getJson(`${receiver.url}/orders/${n.record.outTradeNo}`)).body).toMatchObject({
        times_processed: 1,
      });
      expect(receiver.log.find((e) => e.status === 500)?.fault).toBe(
        'two copies raced: refused the one that arrived while the first was processed',
      );
    });
  });

  it('without the fault, a concurrent copy waits for the first and is acknowledged', async () => {
    await withReceiver({}, async (receiver) => {
      const n = orderNotification(config, 'v2', 'pay', 41);
      const answers = await Promise.all([post(receiver.url, n), post(receiver.url, n), post(receiver.url, n)]);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(answers.every((a) => a.body.includes('<return_code><![CDATA[SUCCESS]]></return_code>'))).toBe(true);
    });
  });
});

describe('fault switch: slows down as the rate grows', () => {
  it('the delay follows the arrival rate of the last second: none up to half the rate, the full delay at the rate', () => {
    let t = 0;
    const delayAt = createSlowdown({ rate: 300 }, () => t);
    const delays: number[] = [];
    for (let i = 0; i < 300; i++) {
      t = i * (1000 / 300); // 300/s
      delays.push(delayAt());
    }
    expect(delays[149]).toBe(0); // 150/s: half the rate
    expect(delays[224]).toBe(2750); // 225/s: half-way
    expect(delays[299]).toBe(5500); // 300/s: past WeChat's 5 s
    t += 2000; // a quiet moment: the rate falls and so does the delay
    expect(delayAt()).toBe(0);
  });

  it('a burst at the configured rate gets answers past 5 s, which the judge calls too slow', async () => {
    await withReceiver({ slowdown: { rate: 8 } }, async (receiver) => {
      const sent = Array.from({ length: 8 }, (_, i) => orderNotification(config, 'v3', 'pay', 50 + i));
      const answers = await Promise.all(sent.map((n) => post(receiver.url, n)));
      const slow = answers.filter((a) => a.ms > ACK_TIME_LIMIT_MS);
      expect(answers.filter((a) => a.ms < 1000).length).toBeGreaterThanOrEqual(4); // the first half: no delay
      expect(slow.length).toBeGreaterThanOrEqual(1); // the 8th arrival: 5.5 s
      const verdict = judge('v3.pay.success', {
        status: slow[0]!.status,
        body: slow[0]!.body,
        headers: {},
        timeMs: slow[0]!.ms,
      });
      expect(verdict.cause).toBe('slow');
      expect(receiver.log.some((e) => /^slowed down by 5500 ms at the current arrival rate$/.test(e.fault ?? ''))).toBe(
        true,
      );
    });
  }, 20_000);
});

describe('fault switch: connection limit', () => {
  it('beyond maxConnections open connections, a new one is closed without an answer', async () => {
    await withReceiver({ maxConnections: 2 }, async (receiver) => {
      const open = (): Promise<Socket> =>
        new Promise((resolve, reject) => {
          const s = connect(receiver.port, '127.0.0.1', () => resolve(s));
          s.on('error', reject);
        });
      const held = [await open(), await open()];
      await new Promise((r) => setTimeout(r, 50)); // let the server count them
      const n = orderNotification(config, 'v3', 'pay', 60);
      await expect(post(receiver.url, n)).rejects.toMatchObject({
        code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/),
      });
      held[0]!.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect((await post(receiver.url, n)).status).toBe(204);
      held[1]!.destroy();
    });
  });
});

describe('serve: the fault switches as flags', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wxpay-serve-faults-'));
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, 'keys/p.pem'), keys.publicKey.privateKeyPem);
    writeFileSync(
      join(dir, 'wxpay-notify.json'),
      JSON.stringify({
        name: 'f',
        appid: config.appid,
        mchid: config.mchid,
        v3: {
          notifyUrl: 'http://127.0.0.1:8080/wxpay/v3/notify',
          refundNotifyUrl: 'http://127.0.0.1:8080/wxpay/v3/refund-notify',
          apiV3Key: keys.apiV3Key,
          platform: { privateKeyFile: 'keys/p.pem', serial: keys.publicKey.keyId },
        },
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says which faults are on, logs each one where it happens, serves the lookup and sums up at the end', async () => {
    const io = memoryIO();
    let stop!: () => void;
    const served = serveCommand(
      { config: join(dir, 'wxpay-notify.json'), port: 0, host: '127.0.0.1', dropEvery: '2', quiet: true },
      io,
      new Promise<void>((r) => (stop = r)),
    );
    for (let i = 0; i < 200 && !/listening on (\S+)/.test(io.stdout); i++) await new Promise((r) => setTimeout(r, 25));
    const url = /listening on (\S+)/.exec(io.stdout)![1]!;
    expect(io.stdout).toContain(
      `lookup (what was recorded, for load --lookup): GET ${url}/orders/{out_trade_no} · GET ${url}/refunds/{out_refund_no}`,
    );
    expect(io.stdout).toContain(
      'FAULTS SWITCHED ON (this receiver misbehaves on purpose):\n  - acknowledges, then loses the record: 1 record in 2 dropped\n',
    );
    const mark = io.stdout.length;
    for (let i = 1; i <= 2; i++)
      expect((await post(url, orderNotification(config, 'v3', 'pay', 70 + i))).status).toBe(204);
    expect((await getJson(`${url}/orders/Tv3P000072`)).status).toBe(404);
    stop();
    await served;
    const log = io.stdout.slice(mark);
    // --quiet: the first (recorded) acknowledgement leaves no line; the faulty one does.
    expect(log).not.toContain('EV-v3P000071');
    expect(log).toMatch(
      / ACK {4}204 \/wxpay\/v3\/notify v3 pay EV-v3P000072\n {2}FAULT \(switched on\): acknowledged, then lost the record of out_trade_no Tv3P000072 \(1 record in 2 dropped\)\n/,
    );
    expect(log).toContain('stopped: recorded 1 payment and 0 refunds; lost 1 record on purpose (--drop-every)\n');
  });

  it.each([
    [{ dropEvery: '0' }, '--drop-every must be a whole number from 1 to 1000000000, got "0"'],
    [{ dropShare: '150%' }, '--drop-share must be a share from 0 to 1 or a percentage, e.g. 0.01 or 1%, got "150%"'],
    [{ dropEvery: '3', dropShare: '1%' }, '--drop-every and --drop-share both choose which records are lost: give one'],
    [{ faultSeed: '3' }, '--fault-seed picks the records --drop-share loses: give --drop-share too'],
    [{ slowAt: 'fast' }, '--slow-at must be a whole number from 1 to 1000000, got "fast"'],
    [{ slowDelay: '100' }, '--slow-delay is the answer time at --slow-at: give --slow-at too'],
    [
      { raceWindow: '5', notIdempotent: true },
      '--not-idempotent processes every copy, --race-window refuses racing copies: give one',
    ],
  ])('%j is a usage error naming the flag', (flags, message) => {
    expect(() => faultsFromArgs({ config: 'x', host: '127.0.0.1', ...flags })).toThrow(new UserError(message));
  });

  it('flags become the library options', () => {
    expect(
      faultsFromArgs({
        config: 'x',
        host: 'h',
        dropShare: '1%',
        faultSeed: '42',
        slowAt: '300',
        raceWindow: '50',
        maxConnections: '64',
      }),
    ).toEqual({
      dropShare: 0.01,
      seed: 42,
      slowdown: { rate: 300 },
      race: { windowMs: 50 },
      maxConnections: 64,
    });
  });
});
