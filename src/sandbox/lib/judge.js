// The ack rules (docs/protocol.md#acknowledgement-rules). One implementation: the Postman test
// script runs it, and Node loads the same bundled text when it needs to judge outside Postman.

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
      var json;
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
  if (/^\s*[[{]/.test(body)) return { acknowledged: false, explicitReject: false, cause: 'v2-json-ack', got: got };
  var doc;
  try { doc = parseFlatXml(body); } catch (e) {
    return { acknowledged: false, explicitReject: false, cause: /^\s*</.test(body) ? 'v2-bad-xml' : 'v2-plain-text-ack', got: got };
  }
  if (doc.root !== 'xml' || doc.fields.return_code === undefined) return { acknowledged: false, explicitReject: false, cause: 'v2-bad-xml', got: got };
  if (doc.fields.return_code === 'SUCCESS') return { acknowledged: true, explicitReject: false, cause: 'ok', got: got };
  return { acknowledged: false, explicitReject: true, cause: 'v2-return-code-fail', got: got };
}

function statusCause(code, body) {
  // A 5xx page is the framework's error page for a crash in the handler, not a wall in front of it.
  if (looksLikeHtml(body) && code !== 404 && code < 500) return 'html-page';
  if (code === 404) return 'not-found';
  if (code === 405) return 'method-not-allowed';
  if (code === 413) return 'too-large';
  return code >= 500 ? 'server-error' : 'client-error';
}

// What the words of a refusal reveal, checked in this order: a parser error names the parser, a
// database error names the order, and only then do signature words point at the keys.
var ANSWER_EVIDENCE = [
  // "json" as a word, not a file in a stack trace (body-parser's json.js appears in every Express trace).
  ['json-parse', /\bjson\b(?!\.js\b)|unexpected token|expecting value|JSONDecodeError/i],
  ['duplicate', /duplicate|unique constraint|uniqueviolation|integrityerror|already exists|重复/i],
  ['decrypt', /decrypt|解密|aead|auth(entication)? ?tag|tag mismatch|InvalidTag|BadPadding|cipher/i],
  ['keys', /sign|签名|验签|serial|证书|公钥|certificate|verif|密钥/i],
];

function answerEvidence(body) {
  var text = String(body || '').slice(0, 4000);
  for (var i = 0; i < ANSWER_EVIDENCE.length; i++) {
    if (ANSWER_EVIDENCE[i][1].test(text)) return ANSWER_EVIDENCE[i][0];
  }
  return '';
}

// A refusal of a genuine notification, named by what the answer says where it says enough.
function refusalCause(spec, c, body) {
  if (c.cause !== 'client-error' && c.cause !== 'server-error' && c.cause !== 'v2-return-code-fail') return c.cause;
  var evidence = answerEvidence(body);
  if (evidence === 'json-parse' && spec.version === 'v2') return 'xml-parsed-as-json';
  if (c.cause === 'server-error' && spec.redelivery && spec.redelivery.copy > 1) return 'not-idempotent';
  if (evidence === 'duplicate') return 'duplicate-order';
  if (evidence === 'decrypt' && spec.version === 'v3') return 'v3-decrypt';
  if (c.cause === 'client-error') return 'rejected-genuine';
  return c.cause;
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
  // WeChat never sends a forgery, so how late it was refused does not matter: only how.
  var fast = response.timeMs <= JUDGE.timeLimitMs || spec.expect === 'reject';
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
    // A 4xx to a genuine notification usually means verification failed, unless the answer says
    // otherwise; 404/405 keep their own cause.
    cause = pass ? 'ok' : refusalCause(spec, c, response.body);
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
