// wxpay-notify load runtime: judging one answer with `run`'s judge (judgeAnswer, memoJudge).
// Not loaded as it stands: src/load/hook-module.ts joins the runtime files after the bundled sandbox
// fragments (SANDBOX, with Node's crypto under them) and appends module.exports, so one self-contained
// CommonJS module comes out that autocannon's worker threads and Artillery's processor can require().

/* global SANDBOX, JUDGE */

/** autocannon's raw header list ([name, value, name, value…]) as its hooks get it: repeats in an array. */
function headerObject(raw) {
  var out = {};
  for (var i = 0; i + 1 < raw.length; i += 2) {
    var name = raw[i];
    var prev = out[name];
    out[name] = prev === undefined ? raw[i + 1] : [].concat(prev, raw[i + 1]);
  }
  return out;
}

// Header names in lower case, repeats joined; from an object or autocannon's raw list.
function lowerHeaders(headers) {
  if (Array.isArray(headers)) headers = headerObject(headers);
  var out = {};
  Object.keys(headers || {}).forEach(function (k) {
    var v = headers[k];
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  });
  return out;
}

/**
 * The run's checks for one answer: { acknowledged, received, cause, message }. acknowledged: what
 * WeChat counts as success (both checks pass); received: WeChat stops retrying (also a v3 200 with
 * {"code":"FAIL"} within 5 s, docs/protocol.md#v3-acknowledgement).
 */
function judgeAnswer(spec, status, body, headers, timeMs, secrets) {
  var checks = SANDBOX.judgeResponse(
    spec,
    { code: status, body: String(body || ''), headers: lowerHeaders(headers), timeMs: timeMs },
    secrets || [],
  );
  var failing = checks.filter(function (c) {
    return !c.pass;
  });
  var ackCheck = checks[checks.length - 1];
  var cause = !ackCheck.pass ? ackCheck.cause : failing.length ? failing[0].cause : 'ok';
  var fast = timeMs <= JUDGE.timeLimitMs;
  return {
    acknowledged: failing.length === 0,
    received: failing.length === 0 || (cause === 'v3-200-code-fail' && fast),
    cause: cause,
    message: failing.length ? failing[failing.length - 1].message : '',
  };
}

// The judge is a pure function of the case, the status, the body, the location header (3xx only),
// whether the answer came within 5 s, and the secrets. A load run gets the same few answers
// thousands of times (204, the v2 SUCCESS XML), so each case keeps its last answer's verdict, and an
// identical answer (fast, not a redirect, short) reuses it: the same verdict the judge gives, without
// parsing and masking the same bytes again. Anything else goes through the judge.
var MEMO_BODY_CHARS = 2048;
// eslint-disable-next-line no-unused-vars -- used by a later runtime file and exported by the module
function memoJudge(secrets) {
  var last = new WeakMap();
  return function (spec, status, body, headers, timeMs) {
    var text = String(body || '');
    var memoable = timeMs <= JUDGE.timeLimitMs && (status < 300 || status >= 400) && text.length <= MEMO_BODY_CHARS;
    if (memoable) {
      var m = last.get(spec);
      if (m && m.status === status && m.body === text) return m.verdict;
    }
    var verdict = judgeAnswer(spec, status, text, headers, timeMs, secrets);
    if (memoable) last.set(spec, { status: status, body: text, verdict: verdict });
    return verdict;
  };
}
