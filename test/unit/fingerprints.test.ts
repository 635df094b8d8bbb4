import { describe, expect, it } from 'vitest';
import { FINGERPRINTS, identifyStack, stackHint } from '../../src/judge/fingerprints.js';
import { STACK_EXAMPLES } from '../fixtures/stacks/answers.js';

describe('stack fingerprints', () => {
  it.each(STACK_EXAMPLES.map((e) => [e.what, e] as const))('%s is named by its own entry', (_what, example) => {
    const match = identifyStack(example.answer);
    expect(match?.id).toBe(example.id);
    // The row says what it saw: the status and the words or header that matched.
    expect(match!.saw).toMatch(new RegExp(`^HTTP ${example.answer.status}\\b`));
  });

  it('every entry has an example answer, a cause, a fix and a source', () => {
    const covered = new Set(STACK_EXAMPLES.map((e) => e.id));
    const withoutExample = FINGERPRINTS.filter(
      (f) =>
        !covered.has(f.id) &&
        ![
          'safedog-body',
          'csrf-generic',
          'cloudflare-origin',
          'django-debug-500',
          'express-500',
          'flask-wtf-csrf',
          'drf-auth',
          'crash-html',
        ].includes(f.id),
    );
    expect(withoutExample.map((f) => f.id)).toEqual([]);
    for (const f of FINGERPRINTS) {
      expect(f.cause, f.id).toMatch(/\.$/);
      expect(f.fix.length, f.id).toBeGreaterThan(20);
      expect(f.source, f.id).toMatch(/https?:\/\/|wafw00f|sqlmap|RFC|OWASP|BaoTa/);
    }
    expect(new Set(FINGERPRINTS.map((f) => f.id)).size).toBe(FINGERPRINTS.length);
  });

  it('the words a merchant reads: the stack, what it saw, the cause and the fix for that stack', () => {
    const django = identifyStack(STACK_EXAMPLES.find((e) => e.id === 'django-csrf')!.answer)!;
    expect(django.saw).toBe('HTTP 403, page "403 Forbidden" saying "CSRF verification failed"');
    expect(stackHint(django)).toBe(
      'Django CSRF middleware (CsrfViewMiddleware), in front of the handler: Django checks a CSRF token on every POST, and WeChat Pay sends none. Fix: Decorate the notify view with `@csrf_exempt` (from django.views.decorators.csrf).',
    );
    const login = identifyStack(STACK_EXAMPLES.find((e) => e.id === 'login-redirect')!.answer)!;
    expect(login.saw).toBe('HTTP 302, to /accounts/login/?next=/login/wxpay/v2/notify');
    expect(stackHint(login)).toMatch(/Do not point notify_url at the login page/);
    const auth = identifyStack({ status: 401, headers: { 'www-authenticate': 'Basic realm="Realm"' }, body: '' })!;
    expect(auth.saw).toBe('HTTP 401, www-authenticate: Basic realm="Realm"');
    expect(stackHint(auth)).toMatch(/permitAll\(\)/);
  });

  it('leaves the answers it has no evidence about to the judge', () => {
    // The handler's own refusal of a bad signature, an https redirect, a trailing-slash redirect.
    expect(
      identifyStack({
        status: 401,
        headers: { 'content-type': 'application/json' },
        body: '{"code":"FAIL","message":"signature verification failed"}',
      }),
    ).toBeUndefined();
    expect(
      identifyStack({ status: 301, headers: { location: 'https://pay.example.com/wxpay/v3/notify' }, body: '' }),
    ).toBeUndefined();
    expect(identifyStack({ status: 308, headers: { location: '/wxpay/v3/notify/' }, body: '' })).toBeUndefined();
    expect(
      identifyStack({
        status: 200,
        headers: {},
        body: '<xml><return_code>FAIL</return_code><return_msg>签名错误</return_msg></xml>',
      }),
    ).toBeUndefined();
    // A 405 that allows POST is not "a route without POST".
    expect(identifyStack({ status: 405, headers: { allow: 'GET, POST' }, body: '' })).toBeUndefined();
  });

  it('a 5xx HTML page no entry knows is a crash of the handler, not a WAF', () => {
    const match = identifyStack({ status: 500, headers: {}, body: '<html><body><h1>Oops</h1></body></html>' })!;
    expect(match.kind).toBe('crash');
    expect(match.saw).toBe('HTTP 500, "Oops"');
    expect(stackHint(match)).toMatch(
      /^the handler's framework error page: the handler crashed and the framework's error page answered/,
    );
    expect(stackHint(match)).not.toMatch(/WAF.*in front|防火墙/);
  });

  it('quotes server text inert and short', () => {
    const match = identifyStack({
      status: 302,
      headers: { location: `/login?next=\u001b[31m${'x'.repeat(200)}` },
      body: '',
    })!;
    expect(match.saw).not.toMatch(/\u001b/);
    expect(match.saw.length).toBeLessThan(120);
  });
});
