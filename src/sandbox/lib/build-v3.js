function randomHex(random, length) {
  var hex = '';
  for (var i = 0; i < length; i++) hex += Math.floor(random() * 16).toString(16);
  return hex;
}

// Real notification ids look like version-5 UUIDs (f994ecf7-60a3-537e-85d1-7dad28f7bfe8), not the
// docs' EV-2018022511223320873: same shape here, random since WeChat's name input is unknown.
function notificationId(random) {
  var hex = randomHex(random, 32);
  return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-5' + hex.slice(13, 16) + '-' + '89ab'.charAt(Math.floor(random() * 4)) + hex.slice(17, 20) + '-' + hex.slice(20);
}

// The Request-ID header of WeChat's v3 callbacks (08F78BB5AF0610D302189F99DD5C20BA56F89845-0).
function requestId(random) {
  return randomHex(random, 40).toUpperCase() + '-0';
}

// The envelope WeChat posts. A "spaced" layout reorders keys and adds whitespace: a correct merchant
// verifies the raw bytes, so layout must not matter to it.
// A "python" layout is what json.dumps writes by default (", " and ": " separators, non-ASCII as
// \uXXXX): a handler that verifies over json.dumps(json.loads(body)) accepts only this one, which is
// how the run tells that fault apart from untrusted keys.
function serializeEnvelope(envelope, layout) {
  if (layout === 'python') return pythonJson(envelope);
  if (layout !== 'spaced') return JSON.stringify(envelope);
  var reordered = { resource: envelope.resource, summary: envelope.summary, event_type: envelope.event_type,
    resource_type: envelope.resource_type, create_time: envelope.create_time, id: envelope.id };
  return JSON.stringify(reordered, null, 2) + '\n';
}

function pythonJson(value) {
  if (value !== null && typeof value === 'object') {
    return '{' + Object.keys(value).map(function (k) { return pythonJson(k) + ': ' + pythonJson(value[k]); }).join(', ') + '}';
  }
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, function (ch) { return '\\u' + ('000' + ch.charCodeAt(0).toString(16)).slice(-4); });
}

// Picks the signer: one mode, or a random one per delivery as during WeChat's key switch-over
// (the first copies use each key once, so a short run always exercises both).
function pickV3Signer(mode, signers, random, copy) {
  var names = Object.keys(signers).filter(function (n) { return signers[n]; }).sort();
  if (mode === 'random') mode = copy && copy <= names.length ? names[copy - 1] : names[Math.floor(random() * names.length)];
  var signer = signers[mode];
  if (!signer) throw new Error('no ' + mode + ' signer configured for this case');
  return { name: mode, key: signer.key, serial: signer.serial };
}

/**
 * envelope: the stored envelope of an earlier copy (redelivery keeps id and resource) or null.
 * inputs: { apiV3Key, signers, nowMs, nonce, resourceNonce, random }; every delivery gets its own
 * Request-ID, even a repeated notification.
 */
function buildV3Delivery(spec, resourceText, inputs, envelope) {
  var mutate = spec.mutate || {};
  if (!envelope) {
    var plaintext = JSON.stringify(JSON.parse(resourceText));
    var key = mutate.apiV3Key === 'other' ? ('other-' + inputs.apiV3Key).slice(0, inputs.apiV3Key.length) : inputs.apiV3Key;
    envelope = {
      id: notificationId(inputs.random),
      create_time: notifyTimeVariables(inputs.nowMs).wxpay_success_time,
      resource_type: V3.resourceType,
      event_type: spec.event,
      summary: spec.summary,
      resource: {
        original_type: spec.originalType,
        algorithm: V3.algorithm,
        ciphertext: aesGcmEncryptBase64(key, inputs.resourceNonce, spec.associatedData, plaintext),
        associated_data: spec.associatedData,
        nonce: inputs.resourceNonce,
      },
    };
  }
  var body = serializeEnvelope(envelope, mutate.layout);
  var timestamp = String(Math.floor(inputs.nowMs / 1000) + (mutate.timestampOffset || 0));
  var signer = pickV3Signer(spec.signer || 'platform', inputs.signers, inputs.random, spec.copy);
  var signature = rsaSha256SignBase64(signer.key, timestamp + '\n' + inputs.nonce + '\n' + body + '\n');
  if (mutate.signature === 'bad') signature = rsaSha256SignBase64(signer.key, timestamp + '\n' + inputs.nonce + '\n' + body + ' \n');
  if (mutate.signature === 'signtest') signature = V3.signtestPrefix + signature.slice(V3.signtestPrefix.length);
  if (mutate.tamperBody) body = body.replace(/"summary":"([^"]*)"/, '"summary":"$1 "');
  var headers = { 'Content-Type': 'application/json' };
  headers[V3.headers.timestamp] = timestamp;
  headers[V3.headers.nonce] = inputs.nonce;
  headers[V3.headers.signature] = signature;
  headers[V3.headers.serial] = mutate.serial === 'unknown' ? 'PUB_KEY_ID_0000UNKNOWN' + signer.serial.slice(-8) : signer.serial;
  headers[V3.headers.signatureType] = V3.signatureType;
  headers[V3.headers.requestId] = requestId(inputs.random);
  var removeHeaders = [];
  (mutate.dropHeaders || []).forEach(function (name) { delete headers[name]; removeHeaders.push(name); });
  return { body: body, headers: headers, removeHeaders: removeHeaders, envelope: envelope, signer: signer.name };
}
