// Flat WeChat XML (one root, text fields) without a DOM: xml2js would lose whether a value was
// written in CDATA, and the sandbox must re-emit fields the way the template wrote them.
function parseFlatXml(xml) {
  var text = String(xml).replace(/^\uFEFF/, '').replace(/<\?xml[^>]*\?>/, '').trim();
  var rootMatch = /^<([A-Za-z_][\w.-]*)\s*>([\s\S]*)<\/\1\s*>$/.exec(text);
  if (!rootMatch) throw new Error('not a WeChat XML document (expected <xml>…</xml> with flat fields)');
  var inner = rootMatch[2];
  // Whitespace around a CDATA section is layout (a hand-edited body), not part of the value.
  // Text holding "]]>" is written as adjacent CDATA sections (`]]` ends one, `>` starts the next).
  var fieldPattern = /<([A-Za-z_][\w.-]*)\s*>(?:\s*((?:<!\[CDATA\[[\s\S]*?\]\]>)+)\s*|([^<]*))<\/\1\s*>/g;
  var fields = {};
  var cdata = {};
  var order = [];
  var consumed = 0;
  var match;
  while ((match = fieldPattern.exec(inner)) !== null) {
    if (inner.slice(consumed, match.index).trim() !== '') break;
    var name = match[1];
    if (Object.prototype.hasOwnProperty.call(fields, name)) throw new Error('field <' + name + '> appears twice');
    var isCdata = match[2] !== undefined;
    fields[name] = isCdata ? match[2].replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1') : xmlUnescape(match[3].trim());
    cdata[name] = isCdata;
    order.push(name);
    consumed = fieldPattern.lastIndex;
  }
  if (inner.slice(consumed).trim() !== '') {
    throw new Error('unexpected content in <' + rootMatch[1] + '> near "' + inner.slice(consumed).trim().slice(0, 30) + '"');
  }
  return { root: rootMatch[1], fields: fields, cdata: cdata, order: order };
}

function xmlUnescape(text) {
  return text.replace(/&(lt|gt|amp|quot|apos);/g, function (all, name) {
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[name];
  });
}

// A value as CDATA, byte for byte: "]]>" splits into adjacent sections, and so does every "{{",
// which Postman and Bruno would otherwise treat as a variable after the script has signed the body.
function cdataSections(value) {
  // Nearly every value holds neither: one section, as the general case below would write it.
  if (value.indexOf(']]>') < 0 && value.indexOf('{{') < 0) return '<![CDATA[' + value + ']]>';
  return '<![CDATA[' + value.split(']]>').join(']]]]><![CDATA[>').replace(/\{(?=\{)/g, '{]]><![CDATA[') + ']]>';
}

// As WeChat sends it: strings in CDATA and integers bare unless `cdata` says otherwise. Layout, as
// captured (templates/EVIDENCE.md): 'lines' ends every field with a newline (payment notifications),
// 'block' also the opening tag (the decrypted refund <root>), 'compact' none (the refund's outer <xml>).
function buildFlatXml(root, fields, order, cdata, layout) {
  var lines = layout === 'lines' || layout === 'block';
  var out = '<' + root + '>' + (layout === 'block' ? '\n' : '');
  for (var i = 0; i < order.length; i++) {
    var name = order[i];
    var value = String(fields[name]);
    var wrap = cdata && Object.prototype.hasOwnProperty.call(cdata, name) ? cdata[name] : !/^-?\d+$/.test(value);
    out += '<' + name + '>' + (wrap || /[<>&]|\{\{/.test(value) ? cdataSections(value) : value) + '</' + name + '>';
    if (lines) out += '\n';
  }
  return out + '</' + root + '>';
}
