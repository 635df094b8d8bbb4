// Collection-level pre-request script: turns the readable body of the request into the notification
// WeChat would send, signed and encrypted now, so a user can edit a field and press Send.
function requireVariable(name, label) {
  var value = pm.variables.get(name);
  if (value === undefined || value === null || String(value) === '') {
    throw new Error(label + ' is empty: set "' + name + '" in the wxpay-notify environment (or regenerate without --no-secrets)');
  }
  return String(value);
}

// A template's value, raw: pm.variables.get never resolves {{…}} inside a value, and a secret is
// never a value (the keys sign and encrypt; a notification never carries them).
function templateValue(name) {
  if (SECRET_VARIABLES.indexOf(name) >= 0) throw new Error('{{' + name + '}} names a secret, which a notification never carries: remove it from the body');
  var value = pm.variables.get(name);
  if (value === undefined || value === null) throw new Error('variable "' + name + '" is not set: add it to the environment or collection variables');
  return String(value);
}

function fillAll(object) {
  var out = {};
  Object.keys(object || {}).forEach(function (k) { out[k] = fillTemplate(object[k], 'text', templateValue); });
  return out;
}

function v3Signers(spec) {
  var signers = {};
  [['platform', 'v3_platform_private_key', 'v3_platform_serial', 'WeChat Pay public key (微信支付公钥) private key'],
   ['certificate', 'v3_certificate_private_key', 'v3_certificate_serial', 'platform certificate (平台证书) private key']]
    .forEach(function (s) {
      var wanted = spec.signer === s[0] || (spec.signer === 'random' && pm.variables.get(s[1]));
      if (wanted) signers[s[0]] = { key: parseRsaPrivateKeyPem(requireVariable(s[1], s[3])), serial: requireVariable(s[2], 'Wechatpay-Serial for ' + s[0]) };
    });
  return signers;
}

// `memo` is what a redelivery repeats: the v2 body as sent, or the v3 envelope (same id and
// resource; WeChat re-signs each retry with a fresh timestamp and nonce).
function buildDelivery(spec, raw, memo) {
  if (spec.version === 'v2') {
    if (memo) return { body: memo, headers: { 'Content-Type': 'text/xml' }, removeHeaders: [], memo: memo };
    var v2 = buildV2Delivery(spec, raw, requireVariable('v2_api_key', 'APIv2 key (APIv2密钥)'), fillAll(spec.outer), pm.variables.get('wxpay_nonce_str'));
    v2.memo = v2.body;
    return v2;
  }
  var v3 = buildV3Delivery(spec, raw, {
    apiV3Key: requireVariable('v3_api_key', 'APIv3 key (APIv3密钥)'),
    signers: v3Signers(spec),
    nowMs: Date.now(),
    nonce: randomAlphanumeric(32),
    resourceNonce: randomAlphanumeric(12),
    random: Math.random,
  }, memo ? JSON.parse(memo) : null);
  v3.memo = JSON.stringify(v3.envelope);
  return v3;
}

// WeChat may deliver one notification from several servers within seconds: fire the extra copies
// at the same instant; the test script judges every answer. pm.sendRequest cannot turn Postman's
// own headers off (Cache-Control, Postman-Token, Accept-Encoding, Connection): these copies carry them.
function sendConcurrentCopies(spec, raw, memo) {
  var url = pm.variables.replaceIn(pm.request.url.toString());
  var results = [];
  for (var i = 0; i < spec.concurrent; i++) {
    (function (copy, delivery) {
      var started = Date.now();
      var header = Object.keys(delivery.headers).map(function (k) { return { key: k, value: delivery.headers[k] }; });
      Object.keys(CALLBACK_HEADERS).forEach(function (k) { header.push({ key: k, value: CALLBACK_HEADERS[k] }); });
      pm.sendRequest({ url: url, method: 'POST', header: header, body: { mode: 'raw', raw: delivery.body } }, function (err, res) {
        var result = { copy: copy, timeMs: Date.now() - started };
        if (err) {
          result.error = (err.code || 'error') + ': ' + (err.message || err);
        } else {
          var headers = {};
          res.headers.each(function (h) { headers[String(h.key).toLowerCase()] = h.value; });
          result.code = res.code;
          result.body = res.text();
          result.headers = headers;
          result.timeMs = res.responseTime || result.timeMs;
        }
        results.push(result);
        pm.variables.set('wxpay_concurrent_results', JSON.stringify(results));
      });
    })(i + 2, buildDelivery(spec, raw, memo));
  }
}

// Each case has its own order numbers (a handler may refuse an order notified twice); a data row or
// an environment value of the same name is the user's choice and wins.
function setCaseOrder(order) {
  Object.keys(order || {}).forEach(function (name) {
    if (!pm.iterationData.has(name) && !pm.environment.has(name)) pm.variables.set(name, order[name]);
  });
}

function main() {
  var spec = readCaseSpec(pm.request.headers.all());
  if (!spec) return;
  pm.variables.set('wxpay_not_sent', '');
  try {
    setCaseOrder(spec.order);
    var time = notifyTimeVariables(Date.now());
    Object.keys(time).forEach(function (k) { pm.variables.set(k, time[k]); });
    pm.variables.set('wxpay_nonce_str', randomLowerHex(32));
    var template = pm.request.body ? String(pm.request.body.raw || '') : '';
    var amounts = notifyAmountVariables(templateValue('total'));
    if (amounts.error && /\{\{\s*wxpay_(coupon|cash)_fee\s*\}\}/.test(template)) throw new Error(amounts.error);
    Object.keys(amounts.variables || {}).forEach(function (k) { pm.variables.set(k, amounts.variables[k]); });
    var raw = fillTemplate(template, spec.version === 'v2' ? 'xml' : 'json', templateValue);
    var storeKey = spec.redelivery ? 'wxpay_redelivery_' + spec.redelivery.group : null;
    var memo = storeKey && spec.redelivery.copy > 1 ? pm.collectionVariables.get(storeKey) : null;
    if (storeKey && spec.redelivery.copy > 1 && !memo) {
      throw new Error('copy ' + spec.redelivery.copy + ' repeats copy 1 of ' + spec.redelivery.group + ': send copy 1 first (run the folder)');
    }
    var delivery = buildDelivery(spec, raw, memo);
    if (storeKey && spec.redelivery.copy === 1) pm.collectionVariables.set(storeKey, delivery.memo);
    pm.variables.set('wxpay_concurrent_results', '[]');
    if (spec.concurrent) sendConcurrentCopies(spec, raw, delivery.memo);
    // The runtime substitutes {{…}} in the body after this script; the builders leave none.
    if (/\{\{[^{}]*\}\}/.test(delivery.body)) throw new Error('the signed body holds "{{", which the runtime would replace after signing');
    pm.request.body.update(delivery.body);
    delivery.removeHeaders.forEach(function (name) { pm.request.headers.remove(name); });
    Object.keys(delivery.headers).forEach(function (name) { pm.request.headers.upsert({ key: name, value: delivery.headers[name] }); });
  } catch (e) {
    notSent(spec, e && e.message ? e.message : String(e));
  }
}

// An unsigned request would be judged as if it were WeChat's, and a skipped one passes silently
// (newman: 0 assertions, exit 0): fail a test that names the cause, then keep the request off the
// merchant. Runtimes without pm.execution (postman-runtime 7.29 and its fork in Apifox) send the
// request whatever the script says, so there it goes to a reserved, unresolvable host (RFC 6761
// .invalid) with an empty body instead.
function notSent(spec, reason) {
  console.error('[wxpay-notify] ' + spec.id + ': not sent: ' + reason);
  pm.variables.set('wxpay_not_sent', reason);
  pm.test('not sent (未发送): ' + reason, function () {
    throw new Error(spec.id + ': nothing was sent to the notify URL; fix the cause and send again');
  });
  if (pm.execution && typeof pm.execution.skipRequest === 'function') {
    pm.execution.skipRequest();
    return;
  }
  pm.request.url.update(NOT_SENT_URL);
  pm.request.body.update('');
}
