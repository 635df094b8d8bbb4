// Collection-level test script: judges the merchant's answer to the notification just sent.
function main() {
  var spec = readCaseSpec(pm.request.headers.all());
  // The pre-request script already failed a test naming why nothing (or a decoy) was sent.
  if (!spec || !pm.response || pm.variables.get('wxpay_not_sent')) return;
  // A receiver may echo a key back: the messages quote answers, so they mask these first.
  var secrets = SECRET_VARIABLES.map(function (name) { return pm.variables.get(name); });
  var headers = {};
  pm.response.headers.each(function (h) { headers[String(h.key).toLowerCase()] = h.value; });
  var checks = judgeResponse(spec, {
    code: pm.response.code,
    body: pm.response.text(),
    headers: headers,
    timeMs: pm.response.responseTime,
  }, secrets);
  JSON.parse(pm.variables.get('wxpay_concurrent_results') || '[]').forEach(function (copy) {
    var label = 'concurrent copy ' + copy.copy + ': ';
    if (copy.error) {
      checks.push({ name: label + 'answered', pass: false, message: 'no answer (' + copy.error + '). ' + HINTS.transport });
      return;
    }
    judgeResponse(spec, copy, secrets).forEach(function (check) {
      check.name = label + check.name;
      checks.push(check);
    });
  });
  checks.forEach(function (check) {
    pm.test(check.name, function () {
      if (!check.pass) throw new Error(check.message);
    });
  });
}
