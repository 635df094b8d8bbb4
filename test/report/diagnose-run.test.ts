import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/cases/catalogue.js';
import { diagnoseRun } from '../../src/judge/diagnose-run.js';
import { summarizeCases } from '../../src/judge/case-verdicts.js';
import type { DeliveryResult } from '../../src/judge/types.js';

/**
 * The run-level notes on recorded answers: a note states a cause only when the answers support it,
 * and otherwise lists the likely causes with what tells them apart.
 */
type Answer = { status: number; body: string; serial?: string };

function delivery(
  caseId: string,
  version: 'v2' | 'v3',
  kind: 'pay' | 'refund',
  expect: 'ack' | 'reject',
  verdict: 'pass' | 'fail',
  cause: string,
  answer: Answer,
): DeliveryResult {
  // What the runner carries over from the case's catalogue entry.
  const def = CATALOGUE.find((c) => c.id === caseId);
  return {
    caseId,
    title: caseId,
    severity: expect === 'reject' ? 'security' : 'protocol',
    expect,
    version,
    kind,
    folder: def?.folder ?? 'other cases',
    ...(def?.diagnostic ? { diagnostic: def.diagnostic } : {}),
    copy: 1,
    copies: 1,
    iteration: 1,
    verdict,
    cause: cause as DeliveryResult['cause'],
    hint: `hint of ${caseId}`,
    checks: [],
    status: answer.status,
    timeMs: 5,
    request: { url: 'http://x/', headers: answer.serial ? { 'Wechatpay-Serial': answer.serial } : {}, body: '' },
    response: { headers: {}, body: answer.body },
    ...(expect === 'reject' ? { control: version === 'v3' ? 'v3.pay.success' : 'v2.pay.success' } : {}),
  };
}

const notesFor = (deliveries: DeliveryResult[]) => diagnoseRun(summarizeCases(deliveries), deliveries);

const V2_GENUINE = [
  ['v2.pay.success', 'pay'],
  ['v2.pay.extra-fields', 'pay'],
  ['v2.refund.success', 'refund'],
  ['v2.refund.closed', 'refund'],
] as const;
const V3_GENUINE = [
  ['v3.pay.success', 'pay'],
  ['v3.refund.success', 'refund'],
  ['v3.robust.key-order', 'pay'],
  ['v3.redelivery.sequential', 'pay'],
] as const;

describe('diagnoseRun on recorded answers', () => {
  it('a JSON complaint to every v2 notification: the XML body is parsed as JSON (stated, not guessed)', () => {
    const json = { status: 400, body: '{"error":"invalid JSON body"}' };
    const notes = notesFor([
      ...V2_GENUINE.map(([id, kind]) => delivery(id, 'v2', kind, 'ack', 'fail', 'xml-parsed-as-json', json)),
      delivery('v2.forged.bad-sign', 'v2', 'pay', 'reject', 'pass', 'ok', json),
    ]);
    expect(notes).toHaveLength(1);
    expect(notes[0]!.message).toMatch(/The answers talk about JSON: the handler parses the XML notification as JSON/);
    expect(notes[0]!.message).toMatch(/the APIv2 key is not the problem yet/);
    expect(notes[0]!.caseIds).toEqual(V2_GENUINE.map(([id]) => id));
  });

  it('signature words in the answers point at the test keys, and say what else it could be', () => {
    const refused = { status: 401, body: '{"code":"FAIL","message":"签名验证失败"}', serial: 'PUB_KEY_ID_1' };
    const [note] = notesFor(
      V3_GENUINE.map(([id, kind]) => delivery(id, 'v3', kind, 'ack', 'fail', 'rejected-genuine', refused)),
    );
    expect(note!.message).toMatch(
      /The answers name the signature or keys, so most likely the test server does not trust wxpay-notify's TEST keys/,
    );
    expect(note!.message).toMatch(/If those values are already in place, it verifies over a re-serialised body/);
  });

  it("only the json.dumps-shaped body acknowledged: verification over Python's re-serialised body", () => {
    const refused = { status: 401, body: '{"code":"FAIL","message":"签名验证失败"}', serial: 'PUB_KEY_ID_1' };
    const [note] = notesFor([
      ...V3_GENUINE.map(([id, kind]) => delivery(id, 'v3', kind, 'ack', 'fail', 'rejected-genuine', refused)),
      delivery('v3.robust.spaced-separators', 'v3', 'pay', 'ack', 'pass', 'ok', {
        status: 204,
        body: '',
        serial: 'PUB_KEY_ID_1',
      }),
    ]);
    expect(note!.message).toMatch(/Only the body written with a space after every ',' and ':' was acknowledged/);
    expect(note!.message).toMatch(/json\.dumps\(json\.loads\(body\)\)/);
  });

  it('one serial always refused, another always acknowledged: names the untrusted serial', () => {
    const deliveries = [
      ...V3_GENUINE.map(([id, kind]) =>
        delivery(id, 'v3', kind, 'ack', 'fail', 'rejected-genuine', {
          status: 401,
          body: 'unknown serial',
          serial: 'PUB_KEY_ID_9999',
        }),
      ),
      delivery('v3.keys.certificate', 'v3', 'pay', 'ack', 'pass', 'ok', {
        status: 204,
        body: '',
        serial: 'ABCDEF0123',
      }),
    ];
    const [note] = notesFor(deliveries);
    expect(note!.message).toMatch(
      /Every delivery signed with PUB_KEY_ID_9999 was refused, while those signed with ABCDEF0123 were acknowledged: the test server does not trust PUB_KEY_ID_9999/,
    );
  });

  it('the same answer to every case, genuine or forged, with no word about keys: it fails before looking', () => {
    const same = { status: 500, body: 'Internal Server Error' };
    const [note] = notesFor([
      ...V3_GENUINE.map(([id, kind]) => delivery(id, 'v3', kind, 'ack', 'fail', 'server-error', same)),
      delivery('v3.forged.bad-signature', 'v3', 'pay', 'reject', 'pass', 'ok', same),
    ]);
    expect(note!.message).toMatch(
      /got the same answer \(HTTP 500 Internal Server Error\): the handler fails before it looks at the notification/,
    );
  });

  it('refunds refused while payments are acknowledged: the APIv2 key is right, req_info decryption is not', () => {
    const ok = { status: 200, body: '<xml><return_code>SUCCESS</return_code></xml>' };
    const fail = { status: 200, body: '<xml><return_code>FAIL</return_code><return_msg>解密失败</return_msg></xml>' };
    const [note] = notesFor([
      delivery('v2.pay.success', 'v2', 'pay', 'ack', 'pass', 'ok', ok),
      delivery('v2.refund.success', 'v2', 'refund', 'ack', 'fail', 'v2-return-code-fail', fail),
      delivery('v2.refund.closed', 'v2', 'refund', 'ack', 'fail', 'v2-return-code-fail', fail),
    ]);
    expect(note!.message).toMatch(
      /Only refund notifications were refused, while payment notifications were acknowledged, so the shared keys are right: .*md5\(APIv2 key\)/,
    );
  });

  it('nothing to say about a single refusal, or when the answers differ without evidence', () => {
    const ok = { status: 204, body: '' };
    expect(
      notesFor([
        delivery('v3.pay.success', 'v3', 'pay', 'ack', 'pass', 'ok', ok),
        delivery('v3.refund.success', 'v3', 'refund', 'ack', 'pass', 'ok', ok),
        delivery('v3.robust.key-order', 'v3', 'pay', 'ack', 'fail', 'rejected-genuine', { status: 401, body: 'bad' }),
      ]),
    ).toEqual([]);
    const [note] = notesFor(
      V3_GENUINE.map(([id, kind], i) =>
        delivery(id, 'v3', kind, 'ack', 'fail', 'rejected-genuine', { status: 400 + i, body: `error ${i}` }),
      ),
    );
    expect(note!.message).toMatch(
      /Likely causes, most likely first: \(1\) .*\(2\) .*\(3\) the handler fails before it reads the notification/,
    );
  });
});
