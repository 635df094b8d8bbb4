import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { memoryIO } from '../../src/shared/command-io.js';
import { serveCommand } from '../../src/commands/serve.js';
import { demoConfig } from '../../src/commands/demo.js';
import { cdataSection, v2FailXml } from '../../src/protocol/constants.js';
import { parseFlatXml } from '../../src/protocol/v2/flat-xml.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import { signedV2Xml, v3Envelope, v3SignedHeaders } from '../support/build-notifications.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import { jsonNestedDeeperThan } from '../../src/receiver/v3-steps.js';
import type { ReceiverLogEntry } from '../../src/receiver/types.js';
import { testKeys } from '../support/suite-fixture.js';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const timingSafeEqual = vi.hoisted(() => ({ calls: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  return {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      timingSafeEqual.calls++;
      return crypto.timingSafeEqual(a, b);
    },
  };
});

/**
 * `serve`, the receiver merchants copy, against an attacker: text that tries to break out of the
 * reply's CDATA, to forge log lines, a correctly signed resource nested thousands deep; and its v2
 * sign comparison, which must take the same time however many characters match.
 */

describe('v2 FAIL reply: CDATA escaping', () => {
  it.each([
    ['a plain ]]>', 'x]]><return_code>SUCCESS</return_code>'],
    [']]> hidden in ]]]]>>> (a one-pass strip leaves ]]>)', ']]]]>>><return_code>SUCCESS</return_code>'],
    ['several', 'a]]>b]]]>c]]>>d'],
  ])('%s: the reply parses to return_code FAIL with the message intact', (_what, message) => {
    const reply = parseFlatXml(v2FailXml(message));
    expect(reply.root).toBe('xml');
    expect(Object.keys(reply.fields)).toEqual(['return_code', 'return_msg']);
    expect(reply.fields.return_code).toBe('FAIL');
    expect(reply.fields.return_msg).toBe(message);
  });
});

describe('serve against an attacker', () => {
  let config: ResolvedConfig;
  let url = '';
  let stop: () => void;
  let served: Promise<number>;
  const io = memoryIO();
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-serve-h-'));

  beforeAll(async () => {
    const keys = testKeys();
    // serve reads a config file: write one for the demo config (keys from files, API keys inline).
    mkdirSync(join(dir, 'keys'));
    writeFileSync(join(dir, 'keys/p.pem'), keys.publicKey.privateKeyPem);
    writeFileSync(join(dir, 'keys/c.pem'), keys.certificate.privateKeyPem);
    config = demoConfig(keys, 'http://127.0.0.1:8080', dir);
    const file = join(dir, 'wxpay-notify.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'h',
        appid: config.appid,
        mchid: config.mchid,
        v2: {
          notifyUrl: config.v2!.notifyUrl,
          refundNotifyUrl: config.v2!.refundNotifyUrl,
          apiKey: keys.apiKey,
          signType: 'MD5',
        },
        v3: {
          notifyUrl: config.v3!.notifyUrl,
          refundNotifyUrl: config.v3!.refundNotifyUrl,
          apiV3Key: keys.apiV3Key,
          platform: { privateKeyFile: 'keys/p.pem', serial: keys.publicKey.keyId },
        },
      }),
    );
    let release!: () => void;
    served = serveCommand(
      { config: file, port: 0, host: '127.0.0.1' },
      io,
      new Promise<void>((resolve) => (release = resolve)),
    );
    stop = release;
    for (let i = 0; i < 200 && !/listening on (\S+)/.test(io.stdout); i++) await new Promise((r) => setTimeout(r, 25));
    url = /listening on (\S+)/.exec(io.stdout)![1]!;
  }, 60_000);

  afterAll(async () => {
    stop?.();
    await served;
    rmSync(dir, { recursive: true, force: true });
  });

  function post(
    path: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(url + path, { method: 'POST', headers }, (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (d: string) => (text += d))
          .on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.once('error', reject);
      req.end(body);
    });
  }

  const logSince = async (mark: number): Promise<string> => {
    await new Promise((r) => setTimeout(r, 20));
    return io.stdout.slice(mark);
  };

  it('an attacker sign_type cannot break out of the reply CDATA nor forge log lines', async () => {
    const forged =
      '\n2026-01-01T00:00:00.000Z ACK    200 /wxpay/v2/notify v2 pay 4200 \u001b[2K]]]]>>><return_code>SUCCESS</return_code>';
    const body = `<xml><appid>wx1</appid><mch_id>1</mch_id><sign_type>${cdataSection(forged)}</sign_type><sign>00000000000000000000000000000000</sign></xml>`;
    const mark = io.stdout.length;
    const reply = await post('/wxpay/v2/notify', body, { 'Content-Type': 'text/xml' });
    const parsed = parseFlatXml(reply.body);
    expect(parsed.fields.return_code).toBe('FAIL');
    expect(parsed.fields.return_msg).toContain(forged);
    const log = await logSince(mark);
    expect(log).not.toContain('\u001b');
    // One REJECT entry: its head line and its reason line, nothing that looks like an entry of its own.
    const lines = log.trimEnd().split('\n');
    expect(lines, log).toHaveLength(2);
    expect(lines[0]).toMatch(/ REJECT 200 \/wxpay\/v2\/notify v2 pay$/);
    expect(lines[1]).toContain('\\n2026-01-01T00:00:00.000Z ACK');
    expect(lines[1]).toContain('\\x1b[2K');
  });

  it('a correctly signed v3 resource nested 5,000 deep: 4xx, and a log line saying why', async () => {
    const keys = testKeys();
    const plaintext = '['.repeat(5000) + ']'.repeat(5000);
    const envelope = JSON.stringify(
      v3Envelope({
        id: 'EV-deep',
        createTime: '2026-11-27T12:00:00+08:00',
        event: 'TRANSACTION.SUCCESS',
        plaintext,
        apiV3Key: keys.apiV3Key,
        resourceNonce: 'abcdefghijkl',
      }),
    );
    const headers = v3SignedHeaders(envelope, {
      timestamp: String(Math.floor(Date.now() / 1000)),
      nonce: 'n0nce',
      privateKey: keys.publicKey.privateKeyPem,
      serial: keys.publicKey.keyId,
    });
    const mark = io.stdout.length;
    const reply = await post('/wxpay/v3/notify', envelope, headers);
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    const log = await logSince(mark);
    expect(log).toMatch(/REJECT 4\d\d \/wxpay\/v3\/notify v3 pay/);
    expect(log).toMatch(/reason: .*nested/);
  });

  it('v2 signs are compared with crypto.timingSafeEqual', async () => {
    const keys = testKeys();
    const fields = {
      appid: config.appid,
      mch_id: config.mchid,
      nonce_str: 'N',
      transaction_id: '4200000000000000000000000099',
      out_trade_no: 'T1',
      total_fee: '1',
      result_code: 'SUCCESS',
      return_code: 'SUCCESS',
    };
    const before = timingSafeEqual.calls;
    const good = await post('/wxpay/v2/notify', signedV2Xml(fields, keys.apiKey, 'MD5'), {
      'Content-Type': 'text/xml',
    });
    expect(parseFlatXml(good.body).fields.return_code).toBe('SUCCESS');
    const bad = await post('/wxpay/v2/notify', signedV2Xml(fields, 'x'.repeat(32), 'MD5'), {
      'Content-Type': 'text/xml',
    });
    expect(parseFlatXml(bad.body).fields.return_code).toBe('FAIL');
    expect(timingSafeEqual.calls - before).toBe(2);
  });
});

describe('JSON depth bound and logging that never fails the answer', () => {
  it('jsonNestedDeeperThan counts brackets outside strings only', () => {
    expect(jsonNestedDeeperThan('{"a":[[1]]}', 3)).toBe(false);
    expect(jsonNestedDeeperThan('{"a":[[[1]]]}', 3)).toBe(true);
    expect(jsonNestedDeeperThan(`{"a":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}`, 1)).toBe(false);
    expect(jsonNestedDeeperThan('[]'.repeat(1000), 1)).toBe(false);
  });

  it('a log function that throws on an entry still gets a line for it, and the sender its answer', async () => {
    const keys = testKeys();
    const lines: ReceiverLogEntry[] = [];
    const receiver = await startReceiver({
      v2: { apiKey: keys.apiKey, payPath: '/p', refundPath: '/r' },
      log: (entry) => {
        if (entry.notification) throw new RangeError('Maximum call stack size exceeded');
        lines.push(entry);
      },
    });
    try {
      const fields = {
        appid: 'wx1',
        mch_id: '1',
        nonce_str: 'N',
        transaction_id: '4200000000000000000000000098',
        out_trade_no: 'T1',
        total_fee: '1',
      };
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${receiver.url}/p`, { method: 'POST' }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.once('error', reject);
        req.end(signedV2Xml(fields, keys.apiKey, 'MD5'));
      });
      expect(status).toBe(200);
      expect(lines).toHaveLength(1);
      expect(lines[0]!.outcome).toBe('ack');
      expect(lines[0]!.reason).toMatch(/not printable: Maximum call stack/);
    } finally {
      await receiver.close();
    }
  });
});
