// Bruno glue: a `pm` with exactly what the collection's scripts use, over Bruno's bru/req/res API,
// so Bruno runs the Postman entry scripts and library unchanged. Works in both Bruno sandboxes
// (safe = QuickJS, developer = Node vm): only plain values cross into Bruno's API.

// Variables resolve across Bruno's scopes (runtime, environment, collection) the way
// pm.variables.get does across Postman's, raw: bru.getVar and its kin resolve {{…}} inside a value,
// which would put a secret into a notification. Values the scripts set are Bruno runtime variables,
// which last for the run (the test script reads what the pre-request script set). The collection's
// values are one JSON object (`wxpay_values`): a .bru line cannot hold every string.
function brunoValue(name) {
  var runtime = bru.getAllVars();
  if (Object.prototype.hasOwnProperty.call(runtime, name)) return runtime[name];
  var environment = bru.getAllEnvVars();
  // A Bruno environment holds a PEM on one line with \n escapes: Bruno's CLI refuses multi-line
  // values on --env-var, and one line survives every way of editing an environment.
  if (Object.prototype.hasOwnProperty.call(environment, name)) {
    var value = String(environment[name]);
    return value.indexOf('-----BEGIN ') >= 0 ? value.replace(/\\n/g, '\n') : value;
  }
  var collection = bru.getAllCollectionVars();
  var values = JSON.parse(collection.wxpay_values || '{}');
  if (Object.prototype.hasOwnProperty.call(values, name)) return values[name];
  return Object.prototype.hasOwnProperty.call(collection, name) ? collection[name] : undefined;
}

function brunoVariables() {
  return {
    get: function (name) {
      var value = brunoValue(name);
      return value === undefined || value === null ? undefined : String(value);
    },
    set: function (name, value) { bru.setVar(name, String(value)); },
    replaceIn: function (text) { return bru.interpolate(String(text)); },
  };
}

// What pm.collectionVariables keeps (the first copy of a redelivery) lasts for the Bruno run.
function brunoRunVariables() {
  return {
    get: function (name) {
      var value = bru.getAllVars()[name];
      return value === undefined || value === null ? undefined : String(value);
    },
    set: function (name, value) { bru.setVar(name, String(value)); },
  };
}

// pm.environment / pm.iterationData, as far as the scripts ask: a value the user set in the Bruno
// environment overrides a case's own order numbers; Bruno runs have no data rows here.
function brunoEnvironment() {
  return { has: function (name) { var value = bru.getEnvVar(name); return value !== undefined && value !== null; } };
}

function brunoIterationData() {
  return { has: function () { return false; } };
}

// Only req.headerList shows disabled headers, where each request keeps its case.
function brunoHeaders() {
  if (!req.headerList) throw new Error('this Bruno is too old for the wxpay-notify collection (no req.headerList): update Bruno');
  return {
    all: function () { return req.headerList.all(); },
    remove: function (name) { req.deleteHeader(name); },
    upsert: function (header) { req.setHeader(header.key, header.value); },
  };
}

// The request as pm.request shows it; the body is the raw text, never Bruno's parsed JSON.
function brunoRequest() {
  var body = { raw: String(req.getBody({ raw: true }) || '') };
  body.update = function (text) {
    body.raw = text;
    req.setBody(text, { raw: true });
  };
  return {
    headers: brunoHeaders(),
    body: body,
    url: {
      toString: function () { return req.getUrl(); },
      update: function (url) { req.setUrl(url); },
    },
  };
}

// An answer as pm.response / a pm.sendRequest response shows it. Bruno parses JSON bodies unless
// told not to (disableParsingResponseJson); a parsed one is turned back into text as a fallback.
function brunoResponse(code, body, headers, timeMs) {
  var list = headers || {};
  return {
    code: code,
    responseTime: timeMs,
    text: function () { return typeof body === 'string' ? body : body === undefined || body === null ? '' : JSON.stringify(body); },
    headers: {
      each: function (fn) { Object.keys(list).forEach(function (key) { fn({ key: key, value: list[key] }); }); },
    },
  };
}

// pm.sendRequest over bru.sendRequest (axios): a non-2xx or redirect answer is an answer, not an
// error. `pending` collects the sends, so the glue can wait for them before the request goes out.
function brunoSendRequest(pending) {
  return function (definition, callback) {
    var headers = {};
    (definition.header || []).forEach(function (h) { headers[h.key] = h.value; });
    var started = Date.now();
    pending.push(bru.sendRequest({
      url: definition.url,
      method: definition.method,
      headers: headers,
      data: definition.body && definition.body.raw,
      responseType: 'text',
      maxRedirects: 0,
      timeout: BRUNO.requestTimeoutMs,
    }, function (err, res) {
      var answer = res || (err && err.response);
      if (!answer) {
        callback({ code: err && err.code, message: err && err.message ? err.message : String(err) });
        return;
      }
      callback(null, brunoResponse(answer.status, answer.data, answer.headers, Date.now() - started));
    }));
  };
}

// pm.test over Bruno's test(); remembers what failed, for the error that stops an unsigned request.
function brunoTest(failed) {
  return function (name, fn) {
    test(name, function () {
      try {
        fn();
      } catch (e) {
        failed.push(name);
        throw e;
      }
    });
  };
}
