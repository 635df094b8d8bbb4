// v2 sign: non-empty fields except sign, byte-ordered names (ASCII, so JS order is byte order),
// raw values, "&key=" + APIv2 key; HMAC also uses the key as its key. Upper-case hex.
function v2Sign(fields, apiKey, signType) {
  var names = Object.keys(fields).filter(function (n) { return n !== 'sign' && fields[n] !== ''; }).sort();
  var text = names.map(function (n) { return n + '=' + fields[n]; }).join('&') + '&key=' + apiKey;
  return (signType === 'HMAC-SHA256' ? hmacSha256Hex(apiKey, text) : md5Hex(text)).toUpperCase();
}

// Forged variants change a signed message the way an attacker or a bug would (mutations are data in
// the case catalogue; nothing here knows case ids).
function applyV2AfterSign(fields, order, mutate) {
  if (mutate.sign === 'bad') fields.sign = fields.sign.slice(0, -1) + (fields.sign.slice(-1) === 'A' ? 'B' : 'A');
  if (mutate.dropSign) order.splice(order.indexOf('sign'), 1);
  (mutate.tamperFields || []).forEach(function (name) {
    if (order.indexOf(name) < 0) throw new Error('cannot tamper with <' + name + '>: the body has no such field');
    fields[name] = fields[name] + '0';
  });
}

// Captured notifications list every field in name order, sign and sign_type included
// (templates/EVIDENCE.md): they go where their names sort, not at the end.
function insertSorted(order, name) {
  var at = 0;
  while (at < order.length && order[at] < name) at++;
  order.splice(at, 0, name);
}

// xml: the filled template, or already parsed (parseFlatXml's result: the load engine parses each
// template once).
function buildV2Payment(spec, xml, apiKey) {
  var doc = typeof xml === 'string' ? parseFlatXml(xml) : xml;
  var order = doc.order.filter(function (n) { return n !== 'sign' && n !== 'sign_type'; });
  var fields = {};
  order.forEach(function (n) { fields[n] = doc.fields[n]; });
  if (spec.signTypeField) {
    insertSorted(order, 'sign_type');
    fields.sign_type = spec.signType;
  }
  fields.sign = v2Sign(fields, apiKey, spec.signType);
  insertSorted(order, 'sign');
  applyV2AfterSign(fields, order, spec.mutate || {});
  return buildFlatXml('xml', fields, order, doc.cdata, 'lines');
}

// Refund notifications carry no sign: req_info is the <root> XML under AES-256-ECB with
// key = lower-case hex md5(APIv2 key), and decrypting it is what proves the sender.
function buildV2Refund(spec, xml, apiKey, outer, nonceStr) {
  var inner = typeof xml === 'string' ? parseFlatXml(xml) : xml;
  var plain = buildFlatXml(inner.root, inner.fields, inner.order, inner.cdata, 'block');
  // A whole number of 16-byte blocks makes PKCS#7 add a full padding block, which some decryptors
  // strip wrongly (docs/protocol.md#refund-req_info); trailing whitespace after the root element is
  // still valid XML.
  if (spec.mutate && spec.mutate.alignPlaintext) {
    plain += new Array((16 - (Buffer.byteLength(plain, 'utf8') % 16)) % 16 + 1).join(' ');
  }
  var keySource = spec.mutate && spec.mutate.reqInfoKey === 'other' ? 'wxpay-notify-other-' + apiKey : apiKey;
  // As captured: return_code bare, every other field in CDATA (mch_id too, although numeric).
  var fields = { return_code: 'SUCCESS' };
  var order = ['return_code'];
  var cdata = { return_code: false };
  Object.keys(outer).forEach(function (n) {
    if (outer[n] !== '') { fields[n] = outer[n]; order.push(n); cdata[n] = true; }
  });
  fields.nonce_str = nonceStr;
  fields.req_info = aesEcbEncryptBase64(md5Hex(keySource), plain);
  order.push('nonce_str', 'req_info');
  cdata.nonce_str = true;
  cdata.req_info = true;
  return buildFlatXml('xml', fields, order, cdata, 'compact');
}

function buildV2Delivery(spec, xml, apiKey, outer, nonceStr) {
  var body = spec.kind === 'refund' ? buildV2Refund(spec, xml, apiKey, outer, nonceStr) : buildV2Payment(spec, xml, apiKey);
  return { body: body, headers: { 'Content-Type': 'text/xml' }, removeHeaders: [] };
}
