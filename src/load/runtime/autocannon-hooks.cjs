// wxpay-notify load runtime: the autocannon hooks (setupClient, setupRequest, onResponse).
// Not loaded as it stands: src/load/hook-module.ts joins the runtime files after the bundled sandbox
// fragments (SANDBOX, with Node's crypto under them) and appends module.exports, so one self-contained
// CommonJS module comes out that autocannon's worker threads and Artillery's processor can require().

/* global workerThreads, createNotifier, memoJudge, lowerHeaders */

/**
 * One HTTP/1.1 request as autocannon's request builder writes it: request line, Host (unless the
 * headers hold one), keep-alive, the headers in their order, Content-Length of the UTF-8 body, the body.
 */
function rawRequest(host, path, headers, body, keep) {
  var lines = '';
  var ownHost = false;
  for (var name in headers) {
    if (!Object.prototype.hasOwnProperty.call(headers, name)) continue;
    var lower = name.toLowerCase();
    if (lower === 'content-length') continue;
    if (lower === 'host') ownHost = true;
    lines += name + ': ' + headers[name] + '\r\n';
  }
  var bodyLength = Buffer.byteLength(body);
  var head =
    'POST ' +
    path +
    ' HTTP/1.1\r\n' +
    (ownHost ? '' : 'Host: ' + host + '\r\n') +
    'Connection: keep-alive\r\n' +
    lines +
    'Content-Length: ' +
    bodyLength +
    '\r\n\r\n';
  var headLength = Buffer.byteLength(head);
  // A request kept until its turn (pre-signed) gets memory of its own: a slice of Node's shared 8 KB
  // pool would keep the whole slab, and the short-lived buffers beside it, alive (4 KB per request).
  var buffer = keep ? Buffer.allocUnsafeSlow(headLength + bodyLength) : Buffer.allocUnsafe(headLength + bodyLength);
  buffer.write(head, 0);
  if (typeof body === 'string') buffer.write(body, headLength);
  else body.copy(buffer, headLength);
  return buffer;
}

/**
 * options: { notifier, channel, ratePerWorker, rampMs, sendMs, timeLimitMs, duplicateShare,
 *   concurrentShare, retrySchedule (seconds, already divided by the speed-up) | null, batchMs,
 *   presigned (how many to sign before the first send; 0: sign per request), host (the Host header
 *   autocannon writes: the URL's host, as its lib/run.js sets it), answerChars }
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

  // The next delivery, timed and attached to the connection's context (read back by onResponse).
  function prepare(context) {
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
    return item;
  }

  // autocannon builds a connection's first request itself (in its constructor), through this hook;
  // setupClient then puts the delivery's own bytes in its place (fastRequests), before it is sent.
  function setupRequest(req, context) {
    prepare(context);
    req.method = 'POST';
    req.headers = {};
    req.body = '';
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
    fastRequests(client);
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

  // Every request is built here, as one buffer, instead of by autocannon's request builder
  // (lib/httpRequestBuilder.js, lib/requestIterator.js in autocannon 9), which per request copies the
  // defaults and headers twice, deep-clones the context, joins the head and then concatenates it with
  // the body: a tenth of a signing thread's CPU for v2. The connection's first request, which autocannon
  // built in its constructor (setupRequest), is replaced before it is sent. The bytes are the ones its
  // builder writes (test/load/hook-module.test.ts compares them). Answers reach onResponse with
  // autocannon's raw header list, turned into an object only when the judge or the evidence reads them.
  function fastRequests(client) {
    var iterator = client.requestIterator;
    var wire = function (sent) {
      return sent.wire || rawRequest(options.host, sent.path, sent.headers, sent.body);
    };
    if (lastBuilt) iterator.currentRequest.requestBuffer = wire(lastBuilt.d.sent);
    iterator.nextRequest = function () {
      this.resetted = false;
      this.currentRequest.requestBuffer = wire(prepare(this.context).d.sent);
      return this.currentRequest;
    };
    iterator.recordBody = function (request, status, body, rawHeaders) {
      onResponse(status, body, this.context, rawHeaders);
    };
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
    // Without copies or retries a pre-signed delivery is only its request's bytes (and its record):
    // the rest is let go.
    var lean = !options.duplicateShare && !options.retrySchedule;
    for (var i = 0; i < options.presigned; i++) {
      var p = notifier.next(t);
      if (lean) {
        p.wire = rawRequest(options.host, p.path, p.headers, p.body, true);
        p.raw = p.variables = p.memo = p.headers = p.body = undefined;
      }
      pool.push(p);
    }
  }

  return {
    setupClient: setupClient,
    setupRequest: setupRequest,
    onResponse: onResponse,
  };
}
