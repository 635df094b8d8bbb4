// Each request carries its case as JSON in a disabled header: visible in the Postman app, never sent.
function readCaseSpec(headerList) {
  for (var i = 0; i < headerList.length; i++) {
    if (String(headerList[i].key).toLowerCase() === CASE_HEADER.toLowerCase()) return JSON.parse(headerList[i].value);
  }
  return null;
}
