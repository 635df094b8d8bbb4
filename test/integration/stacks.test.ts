/**
 * `run` and `doctor` against the stacks merchants put in front of (or under) their notify handler:
 * real Django and Flask (Debian's python3-django / python3-flask), real Express, the reference
 * receiver with the wrong APIv3 key, and the exact answer bytes of stacks that cannot run here
 * (test/fixtures/stacks/answers.ts). One run covers two faults: the v3 URLs point at one, the v2
 * URLs at another. Each assertion is about the words a merchant reads: the row, the note, doctor.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfig } from '../../src/commands/demo.js';
import { doctorCommand } from '../../src/commands/doctor.js';
import { memoryIO } from '../../src/shared/command-io.js';
import { runSuite } from '../../src/commands/run.js';
import { EXIT } from '../../src/shared/errors.js';
import { identifyStack } from '../../src/judge/fingerprints.js';
import { receiverOptionsFromConfig } from '../../src/receiver/from-config.js';
import { startReceiver } from '../../src/receiver/start-receiver.js';
import { startExpressStacks } from '../fixtures/stacks/express-app.js';
import { RECORDED, STACK_EXAMPLES } from '../fixtures/stacks/answers.js';
import {
  pythonFrameworkMissing,
  startAnswerServer,
  startPythonApp,
  type StartedStack,
} from '../support/stack-servers.js';
import { testKeys } from '../support/suite-fixture.js';

const ONLY = [
  'v3.pay.success',
  'v3.pay.promotion',
  'v3.forged.bad-signature',
  'v3.forged.wrong-apiv3-key',
  'v2.pay.success',
  'v2.pay.extra-fields',
  'v2.forged.bad-sign',
];
const DJANGO_MISSING = pythonFrameworkMissing('django');
const FLASK_MISSING = pythonFrameworkMissing('flask');

const started: StartedStack[] = [];
let dir = '';
const base: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wxpay-notify-stacks-'));
  const start = async (s: Promise<StartedStack>): Promise<string> => {
    const server = await s;
    started.push(server);
    return server.url;
  };
  const example = (id: string) => STACK_EXAMPLES.find((e) => e.id === id)!.answer;
  const bytes = await start(
    startAnswerServer({
      aliyun: example('aliyun-waf'),
      basic: example('http-auth'),
      nginx502: example('gateway-5xx'),
      satoken: example('sa-token'),
    }),
  );
  Object.assign(base, {
    aliyun: `${bytes}/aliyun`,
    basic: `${bytes}/basic`,
    nginx502: `${bytes}/nginx502`,
    satoken: `${bytes}/satoken`,
  });
  const express = await start(startExpressStacks());
  Object.assign(base, { expressNoTextParser: `${express}/no-text-parser`, expressCrash: `${express}/crash` });
  const opts = receiverOptionsFromConfig(demoConfig(testKeys(), 'http://127.0.0.1:0', dir));
  const wrongKey = await startReceiver(
    { ...opts, v3: { ...opts.v3!, apiV3Key: 'W'.repeat(32) } },
    { host: '127.0.0.1', port: 0 },
  );
  started.push({ url: wrongKey.url, close: () => wrongKey.close() });
  base.wrongApiV3Key = wrongKey.url;
  if (!DJANGO_MISSING) {
    const django = await start(startPythonApp('django_app'));
    Object.assign(base, { djangoCsrf: `${django}/csrf`, djangoLogin: `${django}/login` });
  }
  if (!FLASK_MISSING) {
    const flask = await start(startPythonApp('flask_app'));
    Object.assign(base, { flaskCrash: `${flask}/crash`, flaskGetOnly: `${flask}/get-only` });
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(started.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

interface Outcome {
  run: { code: number; out: string; notes: string[]; row: (id: string) => string };
  doctor: { code: number; out: string; probes: string[] };
}

/** `run` and `doctor` with the v3 URLs at one fault and the v2 URLs at another. */
async function check(v3Base: string, v2Base: string): Promise<Outcome> {
  const keys = testKeys();
  const config = demoConfig(keys, 'http://127.0.0.1:0', dir);
  config.v3 = {
    ...config.v3!,
    notifyUrl: `${v3Base}/wxpay/v3/notify`,
    refundNotifyUrl: `${v3Base}/wxpay/v3/refund-notify`,
  };
  config.v2 = {
    ...config.v2!,
    notifyUrl: `${v2Base}/wxpay/v2/notify`,
    refundNotifyUrl: `${v2Base}/wxpay/v2/refund-notify`,
  };
  const io = memoryIO();
  const code = await runSuite(
    config,
    { format: 'table', reporters: [], reporterDir: '.', insecure: false, only: ONLY },
    io,
    'stacks',
  );
  const lines = io.stdout.split('\n');

  const file = join(dir, `doctor-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(join(dir, 'platform.pem'), keys.publicKey.privateKeyPem, { mode: 0o600 });
  writeFileSync(
    file,
    JSON.stringify({
      name: 'stacks',
      appid: config.appid,
      mchid: config.mchid,
      v2: {
        notifyUrl: config.v2.notifyUrl,
        refundNotifyUrl: config.v2.refundNotifyUrl,
        apiKey: config.v2.apiKey,
        signType: 'MD5',
      },
      v3: {
        notifyUrl: config.v3.notifyUrl,
        refundNotifyUrl: config.v3.refundNotifyUrl,
        apiV3Key: config.v3.apiV3Key,
        platform: { privateKeyFile: 'platform.pem', serial: keys.publicKey.keyId },
      },
      order: { outTradeNo: 'T20261207000001', total: 1, openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    }),
  );
  const dio = memoryIO();
  const dcode = await doctorCommand({ config: file, allowPrivate: true, insecure: false, format: 'table' }, dio, {
    reachability: { timeoutMs: 4000 },
    hostname: () => 'stacks-test',
    env: {},
  });
  return {
    run: {
      code,
      out: io.stdout,
      notes: lines.filter((l) => l.startsWith('Note ')),
      row: (id) => lines.find((l) => l.startsWith(`${id} `)) ?? `(no row ${id})`,
    },
    doctor: { code: dcode, out: dio.stdout, probes: dio.stdout.split('\n').filter((l) => /^\s+\S+\s+probe\b/.test(l)) },
  };
}

describe('stacks that answer instead of the handler', () => {
  it.skipIf(DJANGO_MISSING)(
    `Django: CSRF middleware (v3) and login_required (v2) are named with their fix — ${DJANGO_MISSING ?? 'real Django'}`,
    async () => {
      const { run, doctor } = await check(base.djangoCsrf!, base.djangoLogin!);
      expect(run.code).toBe(EXIT.failed);
      expect(run.row('v3.pay.success')).toMatch(
        /FAIL\s+\[note 1\] got HTTP 403, page "403 Forbidden" saying "CSRF verification failed"\. Django CSRF middleware \(CsrfViewMiddleware\), in front of the handler\. Fix: Decorate the notify view with `@csrf_exempt`/,
      );
      expect(run.row('v2.pay.success')).toMatch(
        /FAIL\s+\[note 2\] got HTTP 302, to \/accounts\/login\/\?next=\/login\/wxpay\/v2\/notify\. a login wall, in front of the handler\. Fix: Take the notify route out of the login requirement: Django remove `@login_required`/,
      );
      // A login page is not "the final address".
      expect(run.out).not.toMatch(/point notify_url at the final address/);
      expect(run.notes[0]).toMatch(
        /^Note 1: 2 genuine v3 notifications were refused .*Every v3 case, genuine or forged, got the same answer from Django CSRF middleware .*The notification never reached the handler: .*@csrf_exempt.*The keys are not the problem yet/,
      );
      expect(run.notes[1]).toMatch(
        /^Note 2: .*Every v2 case, genuine or forged, got the same answer from a login wall/,
      );
      expect(run.out).not.toMatch(/TEST keys|APIv2 key \(APIv2密钥\) is not/);
      expect(doctor.code).toBe(EXIT.failed);
      expect(doctor.probes[2]).toMatch(
        /FAIL\s+probe\s+.*answered 403 \(page "403 Forbidden" saying "CSRF verification failed"\): Django CSRF middleware .*@csrf_exempt/,
      );
      expect(doctor.probes[0]).toMatch(
        /FAIL\s+probe\s+.*answered 302 \(to \/accounts\/login\/\?next=.*\): a login wall/,
      );
      expect(doctor.out).not.toMatch(/If .* is the handler, use it as notify_url/);
    },
    60_000,
  );

  it.skipIf(FLASK_MISSING)(
    `Flask: a crashing view (v3) is the handler's crash, not a WAF; a GET-only route (v2) needs POST (Werkzeug lists Allow in set order) — ${FLASK_MISSING ?? 'real Flask'}`,
    async () => {
      const { run, doctor } = await check(base.flaskCrash!, base.flaskGetOnly!);
      expect(run.row('v3.pay.success')).toMatch(
        /FAIL\s+\[note 1\] got HTTP 500, page "500 Internal Server Error"\. Flask \(Werkzeug\) error page\. Fix: The traceback is in Flask's log .*Why: the notify view raised an exception/,
      );
      // A 5xx page counts as a refusal: the run diagnosis speaks about it.
      expect(run.notes[0]).toMatch(
        /^Note 1: 2 genuine v3 notifications were refused .*Every v3 case, genuine or forged, got the Flask \(Werkzeug\) error page .*the handler crashes before it tells a genuine notification from a forged one/,
      );
      expect(run.row('v2.pay.success')).toMatch(
        /FAIL\s+got HTTP 405, allow: (?:(?:HEAD|OPTIONS|GET)(?:, )?){3}\. a route without POST, in front of the handler\. Fix: Accept POST on the notify route: Flask `methods=\['POST'\]`/,
      );
      expect(run.out).not.toMatch(/WAF/);
      // A crash on junk is the handler's own problem, worth a warning; a GET-only route fails.
      expect(doctor.code).toBe(EXIT.failed);
      expect(doctor.probes[2]).toMatch(
        /WARN\s+probe\s+.*answered 500 \(page "500 Internal Server Error"\) to an obvious non-notification, so the handler crashed on it: Flask \(Werkzeug\) error page/,
      );
      expect(doctor.probes[0]).toMatch(
        /FAIL\s+probe\s+.*answered 405 \(allow: (?:(?:HEAD|OPTIONS|GET)(?:, )?){3}\): a route without POST/,
      );
    },
    60_000,
  );

  it('wrong APIv3 key (v3) is named as decryption, an Express app without a text parser (v2) as a body never read', async () => {
    const { run, doctor } = await check(base.wrongApiV3Key!, base.expressNoTextParser!);
    expect(run.row('v3.pay.success')).toMatch(
      /FAIL\s+\[note 1\] got HTTP 400 .*cannot decrypt.*The signature passed but decryption failed \(解密失败\)/,
    );
    expect(run.notes[0]).toMatch(
      /^Note 1: 2 genuine v3 notifications were refused .*Forged signatures were refused differently \(v3\.forged\.bad-signature: HTTP 401 .*\), so the signature check passes; the answers point at decryption: .*APIv3 key \(APIv3密钥\) other than the TEST key/,
    );
    expect(run.notes[0]).not.toMatch(/does not trust wxpay-notify's TEST keys/);
    expect(run.row('v2.pay.success')).toMatch(
      /FAIL\s+\[note 2\] got HTTP 500, page "Error" saying "Cannot read properties of undefined"\. a handler that does not read the raw body\. Fix: Read the raw request body: PHP .*Express `express\.text/,
    );
    expect(run.notes[1]).toMatch(
      /^Note 2: .*The handler never saw the notification: .*The keys are not the problem yet/,
    );
    expect(run.notes[1]).not.toMatch(/APIv2 key \(APIv2密钥\) is not/);
    expect(doctor.code).toBe(EXIT.failed);
    expect(doctor.probes[0]).toMatch(
      /FAIL\s+probe\s+.*answered 500 \(page "Error" saying "Cannot read properties of undefined"\): a handler that does not read the raw body/,
    );
  }, 60_000);

  it('Alibaba Cloud WAF (v3) and an HTTP auth filter (v2): walls that refuse every POST fail doctor too', async () => {
    const { run, doctor } = await check(base.aliyun!, base.basic!);
    expect(run.row('v3.pay.success')).toMatch(
      /FAIL\s+\[note 1\] got HTTP 405, page "405" saying "errors\.aliyun\.com"\. Alibaba Cloud WAF \(阿里云 Web应用防火墙\), in front of the handler\. Fix: .*whitelist rule \(白名单\) for the notify path/,
    );
    expect(run.out).not.toMatch(/allow POST on the notify route/);
    expect(run.row('v2.pay.success')).toMatch(
      /FAIL\s+\[note 2\] got HTTP 401, www-authenticate: Basic realm="Realm"\. an HTTP authentication filter, in front of the handler\. Fix: .*permitAll\(\)/,
    );
    expect(run.notes[1]).not.toMatch(/APIv2 key \(APIv2密钥\) is not/);
    expect(doctor.code).toBe(EXIT.failed);
    expect(doctor.probes[2]).toMatch(
      /FAIL\s+probe\s+.*answered 405 \(page "405" saying "errors\.aliyun\.com"\): Alibaba Cloud WAF/,
    );
    expect(doctor.probes[0]).toMatch(
      /FAIL\s+probe\s+.*answered 401 \(www-authenticate: Basic realm="Realm"\): an HTTP authentication filter, in front of the handler: an authentication filter asks for credentials/,
    );
    expect(doctor.out).not.toMatch(/rejects what it cannot verify \(expected\)/);
  }, 60_000);

  it('Sa-Token wrapping its refusal in HTTP 200 (v3) is a hollow acknowledgement; an nginx 502 (v2) is the gateway', async () => {
    const { run, doctor } = await check(base.satoken!, base.nginx502!);
    expect(run.row('v3.pay.success')).toMatch(
      /FAIL\s+\[note 1\] got HTTP 200, "未能读取到有效 token": WeChat Pay counts HTTP 200 as received and will not retry, but the handler never saw the notification\. Sa-Token login check \(SaInterceptor \/ StpUtil\.checkLogin\), in front of the handler\. Fix: Exclude the notify path: `registry\.addInterceptor/,
    );
    expect(run.row('v2.pay.success')).toMatch(
      /FAIL\s+\[note 2\] got HTTP 502, page "502 Bad Gateway"\. the reverse proxy or load balancer, in front of the handler\. Fix: Check that the application runs and the proxy points at it/,
    );
    expect(doctor.code).toBe(EXIT.failed);
    expect(doctor.probes[2]).toMatch(/FAIL\s+probe\s+.*answered 200 \("未能读取到有效 token"\): Sa-Token login check/);
    expect(doctor.probes[0]).toMatch(
      /FAIL\s+probe\s+.*answered 502 \(page "502 Bad Gateway"\): the reverse proxy or load balancer, in front of the handler: the proxy in front answered because the application behind it is down/,
    );
  }, 60_000);
});

describe('the real frameworks still answer as recorded', () => {
  it('Express: a route that throws is its error page; without a text parser a v2 body is never read', async () => {
    const post = async (url: string, contentType: string, body: string) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
      return identifyStack({ status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() });
    };
    expect((await post(`${base.expressCrash}/wxpay/v3/notify`, 'application/json', '{}'))?.id).toBe('express-500');
    expect((await post(`${base.expressNoTextParser}/wxpay/v2/notify`, 'text/xml', '<xml></xml>'))?.id).toBe(
      'body-unread',
    );
  });

  it.skipIf(DJANGO_MISSING || FLASK_MISSING)(
    `Django and Flask answers match test/fixtures/stacks/recorded-python.json — ${DJANGO_MISSING ?? FLASK_MISSING ?? 'real frameworks'}`,
    async () => {
      const live: Record<string, string> = {
        'django-csrf': base.djangoCsrf!,
        'django-login': base.djangoLogin!,
        'flask-crash': base.flaskCrash!,
        'flask-get-only': base.flaskGetOnly!,
      };
      for (const [name, url] of Object.entries(live)) {
        const res = await fetch(`${url}/wxpay/v3/notify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
          redirect: 'manual',
        });
        const answer = { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
        const recorded = RECORDED[name]!;
        expect(answer.status, name).toBe(recorded.status);
        expect(identifyStack(answer)?.id, name).toBe(identifyStack(recorded)?.id);
      }
    },
  );
});
