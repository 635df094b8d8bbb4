// wxpay-notify load runtime: distinct, genuine notifications (createNotifier).
// Not loaded as it stands: src/load/hook-module.ts joins the runtime files after the bundled sandbox
// fragments (SANDBOX, with Node's crypto under them) and appends module.exports, so one self-contained
// CommonJS module comes out that autocannon's worker threads and Artillery's processor can require().

/* global SANDBOX, nodeCrypto, workerThreads */

// Nothing secret is in the module text: the keys arrive at run time (createNotifier's config).

function pad(n, width) {
  var s = String(n);
  while (s.length < width) s = '0' + s;
  return s.slice(-width);
}

// The configured number with its tail replaced by a run-unique code, keeping its look and length
// (as the collection's per-case codes do): every notification of a load run has its own numbers.
function withUnique(base, unique) {
  var text = String(base || '');
  return text.length >= unique.length + 4 ? text.slice(0, text.length - unique.length) + unique : text + unique;
}

// Nonces from one pool of CSPRNG bytes, each byte used once: one crypto call per 4 KB instead of
// three per notification. Their shapes are the Postman script's (src/sandbox/lib/crypto.js) and
// WeChat's: 32 letters and digits for Wechatpay-Nonce, 12 for resource.nonce, 32 lower-case hex
// digits for the v2 nonce_str (docs/protocol.md).
var randomPool = null;
var randomAt = 0;
function randomByte() {
  if (!randomPool || randomAt >= randomPool.length) {
    randomPool = nodeCrypto.randomBytes(4096);
    randomAt = 0;
  }
  return randomPool[randomAt++];
}

var ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomAlphanumericText(length) {
  var out = '';
  while (out.length < length) {
    var b = randomByte();
    // 248 = 4 × 62: bytes above it are dropped, so every character is equally likely.
    if (b < 248) out += ALPHANUMERIC.charAt(b % 62);
  }
  return out;
}

function randomLowerHexText(length) {
  var out = '';
  while (out.length < length) out += (randomByte() & 15).toString(16);
  return out;
}

// A v2 template parsed once: every field's value filled on its own is what parsing the filled
// template gives, unless the parser trims a value (text outside CDATA with spaces at either end). The
// config's values decide that, since the numbers, times and nonces a run generates are letters and
// digits: createNotifier checks it on a kind's first notification and otherwise parses every one.
function fillParsed(doc, variables) {
  var fields = {};
  for (var i = 0; i < doc.order.length; i++) {
    var name = doc.order[i];
    var value = doc.fields[name];
    fields[name] = value.indexOf('{{') >= 0 ? fill(value, 'text', variables) : value;
  }
  return { root: doc.root, fields: fields, cdata: doc.cdata, order: doc.order };
}

function sameParsed(a, b) {
  return JSON.stringify([a.root, a.order, a.cdata, a.fields]) === JSON.stringify([b.root, b.order, b.cdata, b.fields]);
}

// The collection script's filling (src/sandbox/lib/fill-template.js): each value encoded for where it
// stands (JSON string, CDATA, XML text), so a config value's quotes or "]]>" reach the wire as text.
function fill(text, format, variables) {
  return SANDBOX.fillTemplate(text, format, function (name) {
    if (Object.prototype.hasOwnProperty.call(variables, name)) return variables[name];
    throw new Error('template variable "' + name + '" has no value');
  });
}

/**
 * config: {
 *   mix: [{ version, kind, weight, url, spec, template }],   // spec: the catalogue case's CaseSpec
 *   variables: { appid, mchid, openid, ... },                 // collection variables
 *   order: { outTradeNo, transactionId, outRefundNo, refundId, total, refund },
 *   runCode: '4 digits',                                      // distinct per run
 *   callbackHeaders: { 'User-Agent': ..., Accept: ..., Pragma: ... },
 *   secrets: { v2ApiKey, v3ApiKey, signers: { platform?: { privateKeyPem, serial }, certificate?: ... } }
 * }
 * → { next(nowMs), again(sent, nowMs), secrets }
 */
// eslint-disable-next-line no-unused-vars -- used by a later runtime file and exported by the module
function createNotifier(config) {
  var signers = {};
  ['platform', 'certificate'].forEach(function (name) {
    var s = config.secrets.signers && config.secrets.signers[name];
    if (s) signers[name] = { key: nodeCrypto.createPrivateKey(s.privateKeyPem), serial: s.serial };
  });
  // Path and query of each kind's notify URL: the engine keeps the connection, the request names the path.
  var paths = config.mix.map(function (m) {
    var u = new URL(m.url);
    return u.pathname + u.search;
  });
  var weights = config.mix.map(function (m) {
    return m.weight;
  });
  var sum = weights.reduce(function (a, b) {
    return a + b;
  }, 0);
  if (!(sum > 0)) throw new Error('the notification mix is empty');
  var thread = pad((workerThreads.threadId || 0) % 1000, 3);
  var counter = 0;
  var secretValues = [config.secrets.v2ApiKey, config.secrets.v3ApiKey].filter(Boolean);

  // A low-discrepancy walk (golden ratio) over the weights: any window of deliveries holds the mix
  // the user asked for, without a random generator to seed.
  function pick(n) {
    var x = ((n * 0.6180339887498949) % 1) * sum;
    for (var i = 0; i < weights.length; i++) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    return weights.length - 1;
  }

  // Per kind: its template parsed (v2, when filling fields equals parsing the filled text), or null.
  var parsedTemplates = config.mix.map(function () {
    return undefined;
  });
  function parsedTemplate(index, variables) {
    if (parsedTemplates[index] !== undefined) return parsedTemplates[index];
    var entry = config.mix[index];
    var plan = null;
    if (entry.version === 'v2') {
      try {
        var doc = SANDBOX.parseFlatXml(entry.template);
        if (sameParsed(fillParsed(doc, variables), SANDBOX.parseFlatXml(fill(entry.template, 'xml', variables))))
          plan = doc;
      } catch {
        plan = null; // parsing each filled template reports the problem, as it always did
      }
    }
    parsedTemplates[index] = plan;
    return plan;
  }

  // filled: the filled template text, or (v2) its parsed fields (fillParsed).
  function build(entry, filled, variables, nowMs, memo) {
    var spec = entry.spec;
    if (spec.version === 'v2') {
      if (memo)
        return {
          headers: Object.assign({}, config.callbackHeaders, { 'Content-Type': 'text/xml' }),
          body: memo,
          memo: memo,
        };
      var outer = {};
      Object.keys(spec.outer || {}).forEach(function (k) {
        outer[k] = fill(spec.outer[k], 'text', variables);
      });
      var d2 = SANDBOX.buildV2Delivery(spec, filled, config.secrets.v2ApiKey || '', outer, variables.wxpay_nonce_str);
      return { headers: Object.assign({}, config.callbackHeaders, d2.headers), body: d2.body, memo: d2.body };
    }
    var inputs = {
      apiV3Key: config.secrets.v3ApiKey || '',
      signers: signers,
      nowMs: nowMs,
      nonce: randomAlphanumericText(32),
      resourceNonce: randomAlphanumericText(12),
      random: Math.random,
    };
    var d3 = SANDBOX.buildV3Delivery(spec, filled, inputs, memo ? JSON.parse(memo) : null);
    return {
      headers: Object.assign({}, config.callbackHeaders, d3.headers),
      body: d3.body,
      memo: JSON.stringify(d3.envelope),
    };
  }

  function next(nowMs) {
    var n = ++counter;
    var index = pick(n);
    var entry = config.mix[index];
    var unique = config.runCode + thread + pad(n, 7);
    var total = Number(config.order.total) + (n % 97);
    var refund = Math.max(1, Math.min(total, Math.floor(total / 2)));
    var numbers = {
      out_trade_no: withUnique(config.order.outTradeNo, unique),
      transaction_id: withUnique(config.order.transactionId, unique),
      out_refund_no: withUnique(config.order.outRefundNo, unique),
      refund_id: withUnique(config.order.refundId, unique),
    };
    var variables = Object.assign({}, config.variables, numbers, SANDBOX.notifyTimeVariables(nowMs), {
      total: String(total),
      refund: String(refund),
      wxpay_nonce_str: randomLowerHexText(32),
    });
    var amounts = SANDBOX.notifyAmountVariables(String(total));
    if (amounts.variables) Object.assign(variables, amounts.variables);
    var parsed = parsedTemplate(index, variables);
    // v2 from the parsed template needs no filled text (a repeat reuses the same bytes).
    var raw = parsed ? null : fill(entry.template, entry.version === 'v2' ? 'xml' : 'json', variables);
    var built = build(entry, parsed ? fillParsed(parsed, variables) : raw, variables, nowMs, null);
    var record = {
      version: entry.version,
      kind: entry.kind,
      outTradeNo: numbers.out_trade_no,
      transactionId: numbers.transaction_id,
      total: total,
    };
    if (entry.kind === 'refund') {
      record.outRefundNo = numbers.out_refund_no;
      record.refundId = numbers.refund_id;
      record.refund = refund;
    }
    return {
      mixIndex: index,
      url: entry.url,
      path: paths[index],
      method: 'POST',
      headers: built.headers,
      body: built.body,
      memo: built.memo,
      raw: raw,
      variables: variables,
      record: record,
      spec: entry.spec,
    };
  }

  // The same notification again, as WeChat repeats it: v3 re-signed with a fresh timestamp and
  // nonce over the same envelope (id, resource); v2 the same bytes.
  function again(sent, nowMs) {
    var entry = config.mix[sent.mixIndex];
    var built = build(entry, sent.raw, sent.variables, nowMs, sent.memo);
    return {
      mixIndex: sent.mixIndex,
      url: sent.url,
      path: sent.path,
      method: 'POST',
      headers: built.headers,
      body: built.body,
      memo: sent.memo,
      raw: sent.raw,
      variables: sent.variables,
      record: sent.record,
      spec: sent.spec,
    };
  }

  return { next: next, again: again, secrets: secretValues };
}
