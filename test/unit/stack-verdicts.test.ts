/**
 * What the judge makes of every recorded stack answer, in-process: the row's cause and words for a
 * genuine v2 and v3 notification (the bundled judge, then the stack's fingerprint), the run note
 * when a wall answers everything or the handler tells forged from genuine, and the clock.
 */
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/cases/catalogue.js';
import type { CaseSpec } from '../../src/cases/case-header.js';
import { identifyStack, WALL_KINDS } from '../../src/judge/fingerprints.js';
import { hollowAcknowledgement, nameStack, STACK_CAUSES } from '../../src/judge/name-stack.js';
import { diagnoseRun } from '../../src/judge/diagnose-run.js';
import { totalsLine } from '../../src/report/render-table.js';
import { summarizeCases, totals } from '../../src/judge/case-verdicts.js';
import { expectationText, judgeAnswer } from '../../src/judge/answer.js';
import type { DeliveryResult } from '../../src/judge/types.js';
import { judge } from '../../src/library/judge.js';
import { STACK_EXAMPLES } from '../fixtures/stacks/answers.js';

const spec = (id: string, expect: 'ack' | 'reject'): CaseSpec =>
  ({ id, version: id.slice(0, 2), kind: 'pay', expect, severity: 'protocol' }) as unknown as CaseSpec;

/** The row's cause and words, as `run` settles them: the bundled judge, then the fingerprint. */
function row(
  s: CaseSpec,
  answer: { status: number; headers: Record<string, string | undefined>; body: string },
  timeMs = 5,
) {
  const headers = Object.fromEntries(
    Object.entries(answer.headers).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const judged = { code: answer.status, headers, body: answer.body, timeMs };
  const checks = judgeAnswer(s, judged);
  const failing = checks.find((c) => !c.pass && c.cause !== 'slow') ?? checks.find((c) => !c.pass);
  if (!failing) {
    const hollow = s.expect === 'ack' ? hollowAcknowledgement(judged, expectationText(s)) : undefined;
    return hollow ? { pass: false, cause: hollow.cause, hint: hollow.message } : { pass: true, cause: 'ok', hint: '' };
  }
  const named = nameStack(failing.cause, judged, expectationText(s));
  return { pass: false, cause: named?.cause ?? failing.cause, hint: named?.message ?? failing.message };
}

describe('rows name the stack behind a refused genuine notification', () => {
  it.each(STACK_EXAMPLES.map((e) => [e.what, e] as const))('%s', (_what, example) => {
    const match = identifyStack(example.answer)!;
    for (const version of ['v2', 'v3'] as const) {
      const r = row(spec(`${version}.pay.success`, 'ack'), example.answer);
      expect(r.pass, version).toBe(false);
      expect(r.cause, version).toBe(STACK_CAUSES[match.kind]);
      expect(r.hint, version).toContain(`got ${match.saw}`);
      expect(r.hint, version).toContain(`Fix: ${match.fix}`);
      // The old three-way guess is gone; a crash page never blames a WAF.
      expect(r.hint).not.toMatch(/a WAF, login wall or framework error page/);
      if (match.kind === 'crash') expect(r.hint).not.toMatch(/WAF|防火墙/);
    }
  });

  it('answers the judge already names well keep their cause: https and trailing-slash redirects, plain-text acks, JSON parse errors, duplicates, non-idempotent copies', () => {
    const v2 = spec('v2.pay.success', 'ack');
    const v3 = spec('v3.pay.success', 'ack');
    expect(
      row(v3, { status: 301, headers: { location: 'https://pay.example.com/wxpay/v3/notify' }, body: '' }),
    ).toMatchObject({
      cause: 'redirect',
      hint: expect.stringContaining('point notify_url at the final address'),
    });
    expect(row(v3, { status: 308, headers: { location: '/wxpay/v3/notify/' }, body: '' }).cause).toBe('redirect');
    expect(row(v2, { status: 200, headers: {}, body: 'success' }).cause).toBe('v2-plain-text-ack');
    expect(row(v2, { status: 400, headers: {}, body: '{"error":"invalid JSON body"}' }).cause).toBe(
      'xml-parsed-as-json',
    );
    expect(row(v3, { status: 500, headers: {}, body: 'Duplicate entry for key out_trade_no' }).cause).toBe(
      'duplicate-order',
    );
    const copy = { ...v3, redelivery: { copy: 2 } } as unknown as CaseSpec;
    expect(
      row(copy, {
        status: 500,
        headers: { 'content-type': 'text/html' },
        body: '<!doctype html><title>Server Error (500)</title><h1>Server Error (500)</h1>',
      }).cause,
    ).toBe('not-idempotent');
    expect(
      row(v3, { status: 401, headers: {}, body: '{"code":"FAIL","message":"signature verification failed"}' }).cause,
    ).toBe('rejected-genuine');
  });

  it("a 200 that is a wall's refusal is a hollow acknowledgement: WeChat would stop retrying", () => {
    const satoken = STACK_EXAMPLES.find((e) => e.id === 'sa-token')!.answer;
    const r = row(spec('v3.pay.success', 'ack'), satoken);
    expect(r).toMatchObject({ pass: false, cause: 'auth-wall' });
    expect(r.hint).toMatch(
      /^expected HTTP 200 or 204 from the handler, got HTTP 200, "未能读取到有效 token": WeChat Pay counts HTTP 200 as received and will not retry, but the handler never saw the notification\. Sa-Token/,
    );
    // A wall's 200 to a forgery is the wall's doing, not a missing signature check.
    expect(row(spec('v3.forged.bad-signature', 'reject'), satoken).cause).toBe('auth-wall');
  });

  it('a decryption failure is named as such, not as untrusted keys', () => {
    const r = row(spec('v3.pay.success', 'ack'), {
      status: 500,
      headers: {},
      body: '{"code":"FAIL","message":"解密失败"}',
    });
    expect(r.cause).toBe('v3-decrypt');
    expect(r.hint).toMatch(/The signature passed but decryption failed \(解密失败\).*APIv3 key \(APIv3密钥\)/);
  });

  it("the library's judge names the stack as run does", () => {
    const django = STACK_EXAMPLES.find((e) => e.id === 'django-csrf')!.answer;
    const verdict = judge('v3.pay.success', {
      status: django.status,
      text: django.body,
      headers: django.headers as Record<string, string>,
    });
    expect(verdict).toMatchObject({ pass: false, cause: 'csrf' });
    expect(verdict.message).toMatch(
      /got HTTP 403, page "403 Forbidden" saying "CSRF verification failed"\. Django CSRF middleware .*`@csrf_exempt`/,
    );
    expect(judge('v3.pay.success', { status: 204 }).pass).toBe(true);
  });

  it('every wall kind has a cause with a general hint (the catalogue has no cause without one)', () => {
    for (const kind of WALL_KINDS) expect(STACK_CAUSES[kind]).toBeTruthy();
  });
});

// ── The run: notes and the clock, on recorded deliveries ──────────────────────────────────────────

type Answer = { status: number; body: string; headers?: Record<string, string> };
function delivery(
  caseId: string,
  expect: 'ack' | 'reject',
  verdict: 'pass' | 'fail',
  cause: string,
  answer: Answer,
  timeMs = 5,
): DeliveryResult {
  const def = CATALOGUE.find((c) => c.id === caseId)!;
  return {
    caseId,
    title: caseId,
    severity: def.severity,
    expect,
    version: def.version,
    kind: def.kind,
    folder: def.folder,
    ...(def.control ? { control: def.control } : {}),
    copy: 1,
    copies: 1,
    iteration: 1,
    verdict,
    cause: cause as DeliveryResult['cause'],
    hint: `hint of ${caseId}`,
    checks: [],
    status: answer.status,
    timeMs,
    request: { url: 'http://x/', headers: {}, body: '' },
    response: { headers: answer.headers ?? {}, body: answer.body },
  };
}
const notesFor = (deliveries: DeliveryResult[]) =>
  diagnoseRun(summarizeCases(deliveries), deliveries).map((d) => d.message);

describe('the run note reads what the answers show', () => {
  const laravel = STACK_EXAMPLES.find((e) => e.id === 'laravel-csrf')!.answer as Answer;
  it('the same wall answer to genuine and forged notifications: the notification never reached the handler', () => {
    const notes = notesFor([
      delivery('v3.pay.success', 'ack', 'fail', 'csrf', laravel),
      delivery('v3.pay.promotion', 'ack', 'fail', 'csrf', laravel),
      delivery('v3.forged.bad-signature', 'reject', 'pass', 'ok', laravel),
    ]);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /Every v3 case, genuine or forged, got the same answer from Laravel CSRF middleware .*The notification never reached the handler: .*Fix: Exclude the notify route from CSRF checks: Laravel 11\+ `\$middleware->validateCsrfTokens/,
    );
  });

  it("a crash page for genuine notifications while forged ones were refused differently: the handler's own page, after the signature check", () => {
    const crash = {
      status: 500,
      headers: { 'content-type': 'text/html' },
      body: '<!doctype html><html lang="en"><head><title>Server Error (500)</title></head><body><h1>Server Error (500)</h1><p></p></body></html>',
    };
    const notes = notesFor([
      delivery('v3.pay.success', 'ack', 'fail', 'crash', crash),
      delivery('v3.pay.promotion', 'ack', 'fail', 'crash', crash),
      delivery('v3.forged.bad-signature', 'reject', 'pass', 'ok', {
        status: 401,
        body: '{"code":"SIGN_ERROR","message":"签名错误"}',
      }),
    ]);
    expect(notes[0]).toMatch(
      /Genuine notifications got the Django error page \(HTTP 500, page "Server Error \(500\)"\), while forged ones were refused differently \(v3\.forged\.bad-signature: HTTP 401 .*\): the handler tells them apart, so this page is the handler's own, not a wall's, and the signature check passed, so the crash comes after it: most likely decrypting resource\.ciphertext with an APIv3 key/,
    );
    expect(notes[0]).not.toMatch(/does not trust wxpay-notify's TEST keys/);
  });

  it('v2: the same answer to everything leads with the body the handler never read, not with the APIv2 key', () => {
    const fail = { status: 200, body: '<xml><return_code>FAIL</return_code><return_msg>签名错误</return_msg></xml>' };
    const notes = notesFor([
      delivery('v2.pay.success', 'ack', 'fail', 'v2-return-code-fail', fail),
      delivery('v2.pay.extra-fields', 'ack', 'fail', 'v2-return-code-fail', fail),
      delivery('v2.forged.bad-sign', 'reject', 'pass', 'ok', fail),
    ]);
    expect(notes[0]).toMatch(
      /Every v2 case, genuine or forged, got this same answer.*\(1\) it never sees the XML body .*php:\/\/input.*\(2\) the test server's APIv2 key .*Log the length of the body the handler received/,
    );
  });

  it('a control acknowledged late still proves its forged cases: they are judged by how they were refused', () => {
    const ack = { status: 204, body: '' };
    const cases = summarizeCases([
      delivery('v3.pay.success', 'ack', 'fail', 'slow', ack, 6012),
      delivery('v3.forged.bad-signature', 'reject', 'pass', 'ok', { status: 401, body: '{"code":"FAIL"}' }, 4),
    ]);
    expect(cases.map((c) => [c.caseId, c.verdict, c.cause])).toEqual([
      ['v3.pay.success', 'fail', 'slow'],
      ['v3.forged.bad-signature', 'pass', 'ok'],
    ]);
    // A forgery refused late is still refused (WeChat never sends one); acknowledged late, it fails.
    const late = judgeAnswer(spec('v3.forged.bad-signature', 'reject'), {
      code: 401,
      headers: {},
      body: '',
      timeMs: 6012,
    });
    expect(late.every((c) => c.pass)).toBe(true);
    const lateAck = judgeAnswer(spec('v3.forged.bad-signature', 'reject'), {
      code: 204,
      headers: {},
      body: '',
      timeMs: 6012,
    });
    expect(lateAck.find((c) => !c.pass)?.cause).toBe('acked-forged');
    // The genuine notification's own lateness still fails the clock check.
    expect(
      judgeAnswer(spec('v3.pay.success', 'ack'), { code: 204, headers: {}, body: '', timeMs: 6012 })[0],
    ).toMatchObject({ pass: false, cause: 'slow' });
  });

  it('the summary line does not count inconclusive advisory cases as advisory findings', () => {
    const refused = { status: 401, body: '' };
    const cases = summarizeCases([
      delivery('v3.pay.success', 'ack', 'fail', 'rejected-genuine', refused),
      // An advisory forged case whose control was refused: inconclusive, not a finding.
      delivery('v3.forged.stale-timestamp', 'reject', 'pass', 'ok', refused),
    ]);
    expect(cases.find((c) => c.caseId === 'v3.forged.stale-timestamp')).toMatchObject({
      severity: 'advisory',
      verdict: 'inconclusive',
    });
    const line = totalsLine(totals(cases));
    expect(line).toBe('0 passed, 1 failed, 1 advisory case not judged (inconclusive or skipped)');
    expect(line).not.toMatch(/advisory finding/);
  });
});
