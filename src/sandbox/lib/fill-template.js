// Fills a body template's {{name}} placeholders in one pass, each value encoded for where it stands:
// the runtime never substitutes inside a value, and a value's quotes, braces or "]]>" cannot change
// the document around it. `valueOf(name)` returns the raw text of a variable or throws.
function fillTemplate(text, format, valueOf) {
  var inside = false;
  return String(text).replace(/\{\{\s*([^{}]+?)\s*\}\}|\\[\s\S]|"|<!\[CDATA\[|\]\]>/g, function (all, name) {
    if (name === undefined) {
      // JSON: a quote opens or closes a string (an escaped one is skipped); XML: CDATA opens or closes.
      if (format === 'json' && all === '"') inside = !inside;
      if (format === 'xml' && all.charAt(0) !== '\\' && all !== '"') inside = all !== ']]>';
      return all;
    }
    var value = String(valueOf(name));
    if (format === 'json') {
      if (inside) return JSON.stringify(value).slice(1, -1);
      if (!/^-?\d+(\.\d+)?$/.test(value)) throw new Error('{{' + name + '}} stands for a number in this body, but its value "' + value + '" is not a number');
      return value;
    }
    if (format === 'xml') return inside ? value.split(']]>').join(']]]]><![CDATA[>') : xmlEscape(value);
    return value;
  });
}

function xmlEscape(text) {
  return text.replace(/[&<>]/g, function (ch) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;' }[ch]; });
}
