// Collection-level test script: judges the merchant's answer to the notification just sent.
function main() {
  var spec = readCaseSpec(pm.request.headers.all());
  if (!spec || !pm.response) return;
  var headers = {};
  pm.response.headers.each(function (h) { headers[String(h.key).toLowerCase()] = h.value; });
  var checks = judgeResponse(spec, {
    code: pm.response.code,
    body: pm.response.text(),
    headers: headers,
    timeMs: pm.response.responseTime,
  });
  checks.forEach(function (check) {
    pm.test(check.name, function () {
      if (!check.pass) throw new Error(check.message);
    });
  });
}
