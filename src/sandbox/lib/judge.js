// The ack rules (protocol.md §1.6, §5.1). One implementation: the Postman test script runs it, and
// Node loads the same bundled text when it needs to judge outside Postman.

// The quote is cut short only after masking: a secret cut in half would no longer be recognised.
// Only the start is quoted, so only enough of the body to hold any secret that begins there (at 12
// characters per escaped character) is masked, and a secret the window cuts is masked up to the cut.
function describeBody(body, secrets) {
  var raw = String(body || '');
  var longest = maskUnits(secrets).reduce(function (n, unit) { return Math.max(n, unit.length); }, 0);
  var window = 80 + 12 * longest;
  var more = raw.length > window;
  var text = maskSecrets(raw.slice(0, window), secrets, { edge: more }).replace(/\s+/g, ' ').trim();
  if (text === '') return 'an empty body';
  return '"' + (text.length > 80 || more ? text.slice(0, 77) + '...' : text) + '"';
}

function looksLikeHtml(body) {
  return /^\s*(<!doctype html|<html|<head|<body)/i.test(String(body || ''));
}

/**
 * response: { code, body, headers: { lower-case name: value } }; secrets: values never to quote
 * → { acknowledged, explicitReject, cause, got }: what WeChat would make of the answer.
 */
function classifyResponse(version, response, secrets) {
  var code = response.code;
  var body = String(response.body || '');
  var got = 'HTTP ' + code + ' with ' + describeBody(body, secrets);
  if (code >= 300 && code < 400) {
    return { acknowledged: false, explicitReject: false, cause: 'redirect', got: got + ' (redirect to ' + maskSecrets(response.headers.location || '?', secrets) + ')' };
  }
  if (version === 'v3') {
    if (code === 200 || code === 204) {
      var json = null;
      try { json = body.trim() ? JSON.parse(body) : null; } catch (e) { json = null; }
      if (code === 200 && json && json.code === 'FAIL') return { acknowledged: false, explicitReject: false, cause: 'v3-200-code-fail', got: got };
      return { acknowledged: true, explicitReject: false, cause: 'ok', got: got };
    }
    if (code >= 200 && code < 300) return { acknowledged: false, explicitReject: false, cause: 'v3-other-2xx', got: got };
    return { acknowledged: false, explicitReject: true, cause: statusCause(code, body), got: got };
  }
  if (code < 200 || code >= 300) return { acknowledged: false, explicitReject: true, cause: statusCause(code, body), got: got };
  if (body.trim() === '') return { acknowledged: false, explicitReject: false, cause: 'v2-empty-body', got: got };
  if (looksLikeHtml(body)) return { acknowledged: false, explicitReject: false, cause: 'html-page', got: got };
  if (/^\s*[\[{]/.test(body)) return { acknowledged: false, explicitReject: false, cause: 'v2-json-ack', got: got };
  var doc;
  try { doc = parseFlatXml(body); } catch (e) {
    return { acknowledged: false, explicitReject: false, cause: /^\s*</.test(body) ? 'v2-bad-xml' : 'v2-plain-text-ack', got: got };
  }
  if (doc.root !== 'xml' || doc.fields.return_code === undefined) return { acknowledged: false, explicitReject: false, cause: 'v2-bad-xml', got: got };
  if (doc.fields.return_code === 'SUCCESS') return { acknowledged: true, explicitReject: false, cause: 'ok', got: got };
  return { acknowledged: false, explicitReject: true, cause: 'v2-return-code-fail', got: got };
}

function statusCause(code, body) {
  if (looksLikeHtml(body) && code !== 404) return 'html-page';
  if (code === 404) return 'not-found';
  if (code === 405) return 'method-not-allowed';
  if (code === 413) return 'too-large';
  return code >= 500 ? 'server-error' : 'client-error';
}

function expectationText(spec) {
  if (spec.expect === 'reject') {
    return spec.version === 'v3' ? 'HTTP 4xx/5xx (verification failed)' : 'return_code FAIL or a non-2xx status';
  }
  return spec.version === 'v3' ? 'HTTP 200 or 204' : '2xx with XML <return_code>SUCCESS</return_code>';
}

/**
 * The checks a case makes of one response. Each check: { name, pass, message, cause }.
 * A failing message says what WeChat expects, what came back (secrets masked), and the likely fix.
 */
function judgeResponse(spec, response, secrets) {
  var checks = [];
  var fast = response.timeMs <= JUDGE.timeLimitMs;
  checks.push({
    name: 'answered within 5 s (5秒内应答)',
    pass: fast,
    cause: fast ? 'ok' : 'slow',
    message: fast ? '' : 'took ' + response.timeMs + ' ms. ' + HINTS.slow,
  });
  var c = classifyResponse(spec.version, response, secrets);
  var pass;
  var cause;
  if (spec.expect === 'reject') {
    pass = c.explicitReject && c.cause !== 'redirect';
    cause = pass ? 'ok' : c.acknowledged ? 'acked-forged' : c.cause;
  } else {
    pass = c.acknowledged;
    // A 4xx to a genuine notification means verification failed; 404/405/5xx keep their own cause.
    cause = pass ? 'ok' : c.cause === 'client-error' ? 'rejected-genuine' : c.cause;
  }
  // The case's own hint names the fault it was built to expose; other causes have a general hint.
  var caseSpecific = cause === 'acked-forged' || cause === 'rejected-genuine' || cause === 'v2-return-code-fail';
  var hint = caseSpecific && spec.hint ? spec.hint : HINTS[cause] || spec.hint || '';
  checks.push({
    name: (spec.expect === 'reject' ? 'rejected the forged notification (拒绝伪造通知)' : 'acknowledged (应答成功)') + ': ' + expectationText(spec),
    pass: pass,
    cause: cause,
    message: pass ? '' : 'expected ' + expectationText(spec) + ', got ' + c.got + '. ' + hint,
  });
  return checks;
}
