// Bruno collection tests: the Postman judge above (main), given a pm over Bruno.
var pm = {
  variables: brunoVariables(),
  request: { headers: brunoHeaders() },
  response: brunoResponse(res.getStatus(), res.getBody(), res.getHeaders(), res.getResponseTime()),
  test: brunoTest([]),
};
main();
