// wxpay-notify load hooks: the glue between a load engine and the sandbox builders. This file is not
// loaded as it stands: src/load/hook-module.ts prepends the bundled sandbox fragments (SANDBOX, with
// Node's crypto under them) and appends module.exports, so one self-contained CommonJS module comes
// out that autocannon's worker threads and Artillery's processor can require().
//
// Nothing secret is in the module text: the keys arrive at run time (createNotifier's config).

/* global SANDBOX, JUDGE, nodeCrypto, workerThreads */

// ── distinct notifications ──────────────────────────────────────────────────────────────────────

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

// Random text from one pool of CSPRNG bytes, each byte used once: one crypto call per 4 KB instead
// of three per notification (nonces and nonce_str), the same base64url text as randomBytes(n) gives.
var randomPool = null;
var randomAt = 0;
function randomText(bytes, chars) {
  if (!randomPool || randomAt + bytes > randomPool.length) {
    randomPool = nodeCrypto.randomBytes(4096);
    randomAt = 0;
  }
  var text = randomPool.toString('base64url', randomAt, randomAt + bytes).slice(0, chars);
  randomAt += bytes;
  return text;
}

function fillTemplate(text, variables) {
  var filled = text.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, function (all, name) {
    return Object.prototype.hasOwnProperty.call(variables, name) ? variables[name] : all;
  });
  var left = /\{\{\s*([^}]+?)\s*\}\}/.exec(filled);
  if (left) throw new Error('template variable "' + left[1] + '" has no value');
  return filled;
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

  function build(entry, raw, variables, nowMs, memo) {
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
        outer[k] = fillTemplate(spec.outer[k], variables);
      });
      var d2 = SANDBOX.buildV2Delivery(spec, raw, config.secrets.v2ApiKey || '', outer, variables.wxpay_nonce_str);
      return { headers: Object.assign({}, config.callbackHeaders, d2.headers), body: d2.body, memo: d2.body };
    }
    var inputs = {
      apiV3Key: config.secrets.v3ApiKey || '',
      signers: signers,
      nowMs: nowMs,
      nonce: randomText(24, 32),
      resourceNonce: randomText(9, 12),
      random: Math.random,
    };
    var d3 = SANDBOX.buildV3Delivery(spec, raw, inputs, memo ? JSON.parse(memo) : null);
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
      wxpay_nonce_str: randomText(24, 32),
    });
    var amounts = SANDBOX.notifyAmountVariables(String(total));
    if (amounts.variables) Object.assign(variables, amounts.variables);
    var raw = fillTemplate(entry.template, variables);
    var built = build(entry, raw, variables, nowMs, null);
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

// ── judging one answer (the bundled judge of the Postman test script) ────────────────────────────

function lowerHeaders(headers) {
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

// ── autocannon: setupClient / setupRequest / onResponse ──────────────────────────────────────────

/**
 * options: { notifier, channel, ratePerWorker, rampMs, sendMs, timeLimitMs, duplicateShare,
 *   concurrentShare, retrySchedule (seconds, already divided by the speed-up) | null, batchMs,
 *   presigned (how many to sign before the first send; 0: sign per request), answerChars }
 *
 * Each connection is closed-loop in autocannon (one request in flight); the rate is autocannon's
 * per-connection quota per second, ramped here by changing it. Latency is taken from the intended
 * send time of a smooth schedule (n-th delivery of this worker), or from the actual send when that
 * was earlier, so a receiver that slows the engine down shows as latency, not as fewer requests.
 */
// eslint-disable-next-line no-unused-vars -- exported by the module the renderer assembles
function createAutocannonHooks(options) {
  var notifier = createNotifier(options.notifier);
  var judge = memoJudge(notifier.secrets);
  var channel = new workerThreads.BroadcastChannel(options.channel);
  var clients = [];
  var startMs = 0;
  var delivered = 0;
  var stopped = false;
  var finished = false;
  var batch = [];
  var orders = [];
  var queue = []; // copies and retries due: { at, sent, copy, attempt, concurrent, order }
  var pool = [];
  var lastBuilt = null;
  // The connection whose next request autocannon is about to build (set by its 'request' event).
  var building = null;
  var rampTimer = null;
  var flushTimer = null;
  var rate = options.ratePerWorker;
  var evidenceSent = {};

  function now() {
    return Date.now();
  }

  function flush() {
    if (batch.length || orders.length)
      channel.postMessage({
        type: 'batch',
        thread: workerThreads.threadId,
        start: startMs,
        deliveries: batch,
        orders: orders,
      });
    batch = [];
    orders = [];
  }

  // The smooth schedule's time of the n-th delivery (n from 0): integral of the ramped rate.
  function intendedAt(n) {
    var r = rate / 1000;
    var ramp = options.rampMs;
    if (ramp > 0 && n < (r * ramp) / 2) return startMs + Math.sqrt((2 * ramp * n) / r);
    return startMs + n / r + ramp / 2;
  }

  function start() {
    if (startMs) return;
    startMs = now();
    flushTimer = setInterval(flush, options.batchMs || 200);
    if (options.rampMs > 0) rampTimer = setInterval(releaseRamp, 50);
  }

  // The ramp: every connection starts held; connection i of N joins at ramp × i/N. autocannon's
  // quota ticks once a second per connection (all in phase), so a joining connection sends from its
  // next tick on: the rate rises in one-second steps, whatever each connection's share (the quota
  // cannot go below one per second per connection). Its number of deliveries is set to match.
  var rampSized = false;
  function releaseRamp() {
    var t = now() - startMs;
    var n = clients.length;
    clients.forEach(function (c, i) {
      var joinsAt = (options.rampMs * i) / n;
      if (!rampSized)
        c.responseMax = Math.max(
          1,
          Math.round(c.wxFullRate * Math.max(1, Math.ceil(options.sendMs / 1000) - Math.ceil(joinsAt / 1000))),
        );
      if (c.wxHold && t >= joinsAt) {
        c.wxHold = false;
        // The first connection starts now; the others on their next tick (which calls a paused one).
        if (i === 0 && !c.destroyed) c._doRequest();
        else c.paused = true;
      }
    });
    rampSized = true;
    if (t >= options.rampMs) clearInterval(rampTimer);
  }

  function orderState(sent) {
    return { record: sent.record, deliveries: 0, pending: 0, acknowledged: false, planned: 0 };
  }

  function settleOrder(order) {
    if (order.pending > 0 || order.planned > 0 || order.done) return;
    order.done = true;
    var r = order.record;
    orders.push(Object.assign({}, r, { acknowledged: order.acknowledged, deliveries: order.deliveries }));
  }

  function nextDelivery(t) {
    // Concurrent copies go first (another connection sends them at once), then copies and retries
    // that are due, then a new notification.
    for (var i = 0; i < queue.length; i++) {
      if (queue[i].at <= t) {
        var item = queue.splice(i, 1)[0];
        item.order.planned--;
        var again = notifier.again(item.sent, t);
        // WeChat's second copy is a redelivery: the judge then names a 5xx "not idempotent", as run does.
        if (item.copy > 1)
          again.spec = Object.assign({}, again.spec, { redelivery: { group: 'load', copy: item.copy } });
        return { sent: again, copy: item.copy, attempt: item.attempt, concurrent: item.concurrent, order: item.order };
      }
    }
    var sent = pool.length ? pool.pop() : notifier.next(t);
    var order = orderState(sent);
    // Which share of orders WeChat delivers twice, and which of those at the same instant.
    var u = (delivered * 0.7548776662466927) % 1;
    if (u < options.duplicateShare) {
      var together = u < options.duplicateShare * options.concurrentShare;
      order.planned++;
      queue.push({ at: together ? 0 : t + 1000, sent: sent, copy: 2, attempt: 1, concurrent: together, order: order });
    }
    return { sent: sent, copy: 1, attempt: 1, concurrent: false, order: order };
  }

  function setupRequest(req, context) {
    var t0 = now();
    start();
    var n = delivered++;
    var d = nextDelivery(t0);
    d.order.deliveries++;
    d.order.pending++;
    var sentAt = now();
    var item = { d: d, intended: Math.min(intendedAt(n), t0), signMs: sentAt - t0, sentAt: sentAt, done: false };
    context.wx = item;
    lastBuilt = item;
    if (building) {
      building.wxCurrent = item;
      building = null;
    }
    if (d.sent.path) req.path = d.sent.path;
    req.method = 'POST';
    req.headers = d.sent.headers;
    req.body = d.sent.body;
    return req;
  }

  function finishDelivery(item, outcome) {
    if (item.done) return;
    item.done = true;
    var t = now();
    var d = item.d;
    var order = d.order;
    order.pending--;
    if (outcome.acknowledged) order.acknowledged = true;
    batch.push({
      version: d.sent.record.version,
      kind: d.sent.record.kind,
      outTradeNo: d.sent.record.outTradeNo,
      copy: d.copy,
      attempt: d.attempt,
      concurrent: d.concurrent,
      intendedAt: item.intended,
      sentAt: item.sentAt,
      answeredAt: t,
      latencyMs: t - item.intended,
      serviceMs: t - item.sentAt,
      signMs: item.signMs,
      status: outcome.status,
      cause: outcome.cause,
      acknowledged: outcome.acknowledged,
      answer: outcome.acknowledged ? undefined : outcome.answer,
      evidence: outcome.evidence,
    });
    // Not received: WeChat sends it again on its schedule (re-signed), unless the run is over.
    var schedule = options.retrySchedule;
    if (!outcome.received && schedule && d.attempt <= schedule.length && !stopped) {
      order.planned++;
      queue.push({
        at: t + schedule[d.attempt - 1] * 1000,
        sent: d.sent,
        copy: d.copy,
        attempt: d.attempt + 1,
        concurrent: false,
        order: order,
      });
    }
    settleOrder(order);
  }

  function onResponse(status, body, context, headers) {
    var item = context.wx;
    if (!item || item.done) return;
    var t = now();
    var verdict = judge(item.d.sent.spec, status, body, headers, t - item.sentAt);
    var answer = verdict.acknowledged ? undefined : verdict.message.slice(0, options.answerChars || 300);
    // The first few refusals of each cause carry their answer, so the main thread can tell whose
    // stack wrote it (an HTML wall, a framework's crash page); the rest only their verdict.
    var evidence;
    if (!verdict.acknowledged && (evidenceSent[verdict.cause] || 0) < 5) {
      evidenceSent[verdict.cause] = (evidenceSent[verdict.cause] || 0) + 1;
      evidence = { headers: lowerHeaders(headers), body: String(body || '').slice(0, 16384) };
    }
    finishDelivery(item, {
      status: status,
      cause: verdict.cause,
      acknowledged: verdict.acknowledged,
      received: verdict.received,
      answer: answer,
      evidence: evidence,
    });
  }

  // A delivery that was built but never left (a held connection when sending stopped).
  function unsend(item) {
    if (item.done) return;
    item.done = true;
    delivered--;
    var order = item.d.order;
    order.pending--;
    order.deliveries--;
    if (order.deliveries === 0) order.done = true;
    else settleOrder(order);
  }

  function fail(item, cause, message) {
    if (item && !item.done)
      finishDelivery(item, { status: 0, cause: cause, acknowledged: false, received: false, answer: message });
  }

  function transportCause(error) {
    var code = (error && error.code) || '';
    if (code === 'ECONNREFUSED') return 'conn-refused';
    if (code === 'ECONNRESET' || code === 'EPIPE') return 'conn-reset';
    if (code.indexOf('HPE_') === 0) return 'bad-http';
    return 'transport';
  }

  function endIfDone() {
    if (
      finished ||
      clients.some(function (c) {
        return !c.wxDone;
      })
    )
      return;
    finished = true;
    clearInterval(rampTimer);
    // Whatever is still planned will not be sent: the run is over.
    queue.forEach(function (q) {
      q.order.planned--;
      settleOrder(q.order);
    });
    queue = [];
    clearInterval(flushTimer);
    flush();
    channel.postMessage({ type: 'end', thread: workerThreads.threadId });
    channel.close();
  }

  function setupClient(client) {
    var share = client.rate || rate;
    client.wxFullRate = share;
    // Deliveries this connection sends: its share of the schedule (releaseRamp sizes it under a ramp).
    client.responseMax = Math.max(1, Math.round((share * options.sendMs) / 1000));
    client.wxCurrent = lastBuilt;
    clients.push(client);
    if (options.rampMs > 0) {
      client.wxHold = true;
      var doRequest = client._doRequest;
      client._doRequest = function () {
        if (client.wxHold && !client.destroyed) return;
        if (client.reqsMade === 0 && client.wxCurrent && !client.wxCurrent.done) {
          // The first request was built with the connection: it goes out now.
          client.wxCurrent.sentAt = now();
          client.wxCurrent.intended = client.wxCurrent.sentAt;
        }
        return doRequest.apply(client, arguments);
      };
    }
    client.on('request', function () {
      // autocannon emits 'request' just before it builds the next one: an earlier request of this
      // connection still unanswered was lost with its connection (a timeout names itself next).
      if (client.reqsMade === 0) return;
      building = client;
      var prev = client.wxCurrent;
      if (prev && !prev.done) {
        client.wxOrphan = prev;
        setImmediate(function () {
          if (client.wxOrphan === prev) fail(prev, 'conn-reset', 'the connection closed before an answer');
        });
      }
    });
    client.on('timeout', function () {
      var lost = client.wxOrphan && !client.wxOrphan.done ? client.wxOrphan : client.wxCurrent;
      client.wxOrphan = null;
      fail(lost, 'timeout', 'no answer within ' + options.timeoutMs + ' ms');
    });
    client.on('connError', function (error) {
      fail(client.wxCurrent, transportCause(error), String((error && error.message) || error));
    });
    client.on('done', function () {
      client.wxDone = true;
      // A timeout that ends the connection's last request is emitted just after 'done': let it name itself.
      var current = client.wxCurrent;
      setImmediate(function () {
        fail(current, 'stopped', 'still unanswered when sending stopped');
        endIfDone();
      });
    });
  }

  channel.onmessage = function (event) {
    if (event.data && event.data.type === 'stop' && !stopped) {
      // Stop sending at once: every connection ends after the answer it is waiting for.
      stopped = true;
      clearInterval(rampTimer);
      clients.forEach(function (c) {
        if (c.reqsMade === 0) {
          // Never released by the ramp: its first request was built but never sent.
          if (c.wxCurrent) unsend(c.wxCurrent);
          c.destroy();
        } else c.responseMax = Math.max(1, c.reqsMade);
      });
    }
  };

  if (options.presigned > 0) {
    var t = now();
    // Without copies or retries a pre-signed delivery is only its bytes: the rest is let go.
    var lean = !options.duplicateShare && !options.retrySchedule;
    for (var i = 0; i < options.presigned; i++) {
      var p = notifier.next(t);
      if (lean) p.raw = p.variables = p.memo = undefined;
      pool.push(p);
    }
  }

  return {
    setupClient: setupClient,
    setupRequest: setupRequest,
    onResponse: onResponse,
  };
}
