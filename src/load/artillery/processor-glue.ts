/**
 * The Artillery side of the generated processor (render-artillery.ts puts it after the hook module,
 * WXPAY, and the embedded WXPAY_CONFIG / WXPAY_SECRET_ENV). Plain ES2020 CommonJS, no require()
 * beyond Node's built-ins.
 *
 * The contract it relies on, from Artillery 2's HTTP engine (@artilleryio/int-core 2.16,
 * lib/engine_http.js, as installed with artillery 2.0.21; docs:
 * https://www.artillery.io/docs/reference/engines/http#function-signatures):
 * - `beforeRequest(requestParams, context, events, next)` runs after the request's URL was prefixed
 *   with `config.target` and before anything is sent; a path it sets in `requestParams.url` is
 *   prefixed with the target again, `requestParams.headers` are merged over the defaults (names
 *   lower-cased), and a Buffer `requestParams.body` is sent as it is (only strings containing `{{` are
 *   templated).
 * - `afterResponse(requestParams, response, context, events, next)` runs once the whole answer is in:
 *   `response.statusCode`, `response.headers`, `response.body` (text), `response.timings.phases.total`
 *   (got's timings, ms). It is not called when there is no answer (timeouts, resets): Artillery counts
 *   those itself as `errors.<code>`.
 * - A step with `ifTrue: name` runs only when `context.vars[name]` is truthy; a `function: name` step
 *   calls `name(context, events, next)`; the steps of a `parallel` step start together (async's
 *   parallelLimit over them, @artilleryio/int-commons engine_util.js createParallel), each with its
 *   own requestParams, which beforeRequest and afterResponse of that request both receive.
 * - `events.emit('counter', name, n)` and `events.emit('histogram', name, value)` add custom metrics
 *   to Artillery's report (https://www.artillery.io/docs/reference/extension-apis#tracking-custom-metrics).
 * - Each Artillery worker (thread, container or Lambda) loads the processor once.
 */
export const ARTILLERY_GLUE = String.raw`
const wxpayCrypto = require('crypto');

// WeChat delivers some notifications more than once; this share of virtual users sends a copy, and
// half of those copies go out at the same instant as the first delivery (as load's --concurrent
// default), the rest after the first answer.
const WXPAY_REPEAT_SHARE = 0.1;
const WXPAY_TOGETHER_SHARE = 0.5;
const WXPAY_TIME_LIMIT_MS = 5000;
// Which notification each request carries: two of one virtual user's can be in flight at once.
const wxpayByRequest = new WeakMap();

let wxpayState;

/** The notifier of this worker, made on first use from the embedded config and the environment. */
function wxpayNotifier() {
  if (wxpayState) return wxpayState;
  const needs = WXPAY_CONFIG.needs;
  const missing = [];
  const secret = (name) => {
    const value = process.env[name];
    if (!value) missing.push(name);
    return value;
  };
  const secrets = { signers: {} };
  if (needs.v2ApiKey) secrets.v2ApiKey = secret(WXPAY_SECRET_ENV.v2ApiKey);
  if (needs.v3ApiKey) secrets.v3ApiKey = secret(WXPAY_SECRET_ENV.v3ApiKey);
  for (const name of Object.keys(needs.signers)) {
    const pem = secret(WXPAY_SECRET_ENV[name]);
    if (pem) secrets.signers[name] = { privateKeyPem: pem, serial: needs.signers[name].serial };
  }
  if (missing.length > 0) {
    throw new Error('wxpay-notify: ' + missing.join(', ') + ' not set; run Artillery with --dotenv <name>.artillery.env (written by wxpay-notify generate --format artillery)');
  }
  const config = Object.assign({}, WXPAY_CONFIG, { secrets: secrets });
  delete config.needs;
  // Six random digits per worker: with the worker's thread id and counter they keep order numbers
  // distinct across the threads, containers and Lambdas of one distributed run.
  config.runCode = String(wxpayCrypto.randomInt(1000000)).padStart(6, '0');
  wxpayState = { notifier: WXPAY.createNotifier(config), secrets: [secrets.v2ApiKey, secrets.v3ApiKey].filter(Boolean), sent: 0 };
  return wxpayState;
}

function wxpayApply(requestParams, delivery) {
  // The path only: Artillery prefixes config.target (or --target), so a run can aim elsewhere.
  const url = new URL(delivery.url);
  requestParams.url = url.pathname + url.search;
  requestParams.method = 'POST';
  requestParams.headers = Object.assign({}, delivery.headers);
  requestParams.body = Buffer.from(delivery.body, 'utf8');
  delete requestParams.json;
  wxpayByRequest.set(requestParams, { delivery: delivery, startedAt: performance.now() });
}

/** A function step: a fresh, distinct, signed (v3 also encrypted) notification, and whether WeChat repeats it. */
function wxpayPrepare(context, events, next) {
  let state;
  try {
    state = wxpayNotifier();
  } catch (error) {
    return next(error);
  }
  context.vars.wxpaySent = state.notifier.next(Date.now());
  // A golden-ratio walk instead of a coin: every window of virtual users holds the shares.
  state.sent++;
  const u = (state.sent * 0.6180339887498949) % 1;
  context.vars.wxpayRepeatTogether = u < WXPAY_REPEAT_SHARE * WXPAY_TOGETHER_SHARE;
  context.vars.wxpayRepeatLater = !context.vars.wxpayRepeatTogether && u < WXPAY_REPEAT_SHARE;
  return next();
}

/** beforeRequest of the first delivery: the prepared notification. */
function wxpaySend(requestParams, context, events, next) {
  const delivery = context.vars.wxpaySent;
  if (!delivery) return next(new Error('wxpay-notify: wxpaySend needs the function step wxpayPrepare before it in the flow; regenerate the scenario with wxpay-notify generate --format artillery'));
  wxpayApply(requestParams, delivery);
  events.emit('counter', 'wxpay.sent.' + delivery.record.version + '.' + delivery.record.kind, 1);
  return next();
}

/** beforeRequest of a copy: the same notification again, as WeChat repeats it (v3 re-signed). */
function wxpaySignRepeat(requestParams, context, events, next) {
  let state;
  try {
    state = wxpayNotifier();
  } catch (error) {
    return next(error);
  }
  wxpayApply(requestParams, state.notifier.again(context.vars.wxpaySent, Date.now()));
  events.emit('counter', 'wxpay.sent.copies', 1);
  if (context.vars.wxpayRepeatTogether) events.emit('counter', 'wxpay.sent.copies_at_once', 1);
  return next();
}

/** afterResponse: the answer judged by run's rules; one counter per cause, the answer time. */
function wxpayJudge(requestParams, response, context, events, next) {
  const sent = wxpayByRequest.get(requestParams);
  if (!sent) return next();
  const delivery = sent.delivery;
  const phases = response.timings && response.timings.phases;
  const timeMs = phases && typeof phases.total === 'number' ? phases.total : performance.now() - sent.startedAt;
  const verdict = WXPAY.judgeAnswer(delivery.spec, response.statusCode, response.body, response.headers, timeMs, wxpayNotifier().secrets);
  events.emit('histogram', 'wxpay.answer_ms', timeMs);
  if (verdict.acknowledged) events.emit('counter', 'wxpay.acknowledged', 1);
  else events.emit('counter', 'wxpay.failed.' + verdict.cause, 1);
  if (timeMs > WXPAY_TIME_LIMIT_MS) events.emit('counter', 'wxpay.over_5s', 1);
  return next();
}

module.exports = { wxpayPrepare, wxpaySend, wxpaySignRepeat, wxpayJudge };
`;
