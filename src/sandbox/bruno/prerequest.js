// Bruno collection pre-request script: the Postman signer above (main), given a pm over Bruno.

// Bruno's HTTP client (axios) trims whitespace around a JSON request body it sends: serialise the
// v3 envelope as it will go out, so the signature covers the bytes on the wire. Only the spaced
// layout (v3.robust.key-order) has such whitespace: its trailing newline is not sent in Bruno.
serializeEnvelope = (function (serialize) {
  return function (envelope, layout) { return serialize(envelope, layout).trim(); };
})(serializeEnvelope);
var brunoPending = [];
var brunoFailed = [];
var brunoSkipped = false;
var pm = {
  variables: brunoVariables(),
  collectionVariables: brunoRunVariables(),
  environment: brunoEnvironment(),
  iterationData: brunoIterationData(),
  request: brunoRequest(),
  test: brunoTest(brunoFailed),
  sendRequest: brunoSendRequest(brunoPending),
  execution: { skipRequest: function () { brunoSkipped = true; } },
};
// The judge reads the answer as text, byte for byte.
req.disableParsingResponseJson();
main();
// WeChat sends no Accept-Encoding; Bruno's HTTP client (axios) adds one unless the request deletes
// it. Its request-start-time header (its clock) and Connection cannot go (docs/bruno.md).
req.deleteHeader('Accept-Encoding');
// The concurrent copies go out and come back before the request itself, as in Postman.
await Promise.all(brunoPending);
// Bruno counts a skipped request as passed, even with a failed test: an error stops the request
// and fails the run, naming the cause.
if (brunoSkipped) throw new Error(brunoFailed.join('; ') || 'not sent');
