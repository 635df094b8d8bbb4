// Secret masking, one implementation: the test script masks what it quotes from an answer before it
// cuts the quote short, and Node loads this same text to mask everything it prints or writes.
//
// A receiver may echo a secret escaped as JSON (\" \\ \/ \uXXXX), XML/HTML (&amp; &#38; &#x26;) or
// URL (%26). Each is found by reading the text once per encoding, decoded, with every decoded
// character remembering where it came from; a secret found in a decoded reading masks exactly the
// source characters it came from. Reading each encoding on its own (and then all together) keeps
// one encoding's escapes from spoiling the match of another's.
//
// Base64 is found by what a secret becomes inside any base64 text: its UTF-8 bytes may start at any
// of the three byte positions of a 3-byte group, so each alignment gives a run of characters that
// depend on the secret alone (standard and URL-safe alphabet). Those runs are looked for in every
// reading above (a JSON "\/" or URL "%2B" inside base64 too), and a match also masks the one
// character at each end that holds part of the secret, and the padding after it.

var MASK_MARK = '\u2039redacted\u203a';
var MASK_MIN_LENGTH = 8;
var MASK_MIN_LINE = 40;
var MASK_EDGE_MAX = 256;
var MASK_EDGE_MIN = 4;
var MASK_XML_NAMED = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
var MASK_B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
var MASK_B64_MIN = 10;
var MASK_B64_TAIL = /[\w+/-]?=*/y;
var MASK_JSON_ESCAPES = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

// What to look for: each secret of at least 8 characters, and each long line of a multi-line one
// (PEM keys also travel line by line, e.g. in an exec array or re-wrapped).
function maskUnits(secrets) {
  var units = [];
  (secrets || []).forEach(function (secret) {
    secret = String(secret || '');
    if (secret.length < MASK_MIN_LENGTH) return;
    units.push(secret);
    secret.split(/\r?\n/).forEach(function (line) {
      if (line.length >= MASK_MIN_LINE && line !== secret) units.push(line);
    });
  });
  return units;
}

// A unit's base64 forms, standard and URL-safe, at each alignment: { text, lead, trail } (lead/trail:
// a character holding part of the secret may sit before/after). unescape(encodeURIComponent(...))
// gives the UTF-8 bytes: no runtime offers TextEncoder, and not every one a Buffer.
function maskBase64Units(unit) {
  var forms = [];
  try {
    var bytes = unescape(encodeURIComponent(unit));
  } catch (e) {
    return forms; // a lone surrogate: no UTF-8 form
  }
  for (var a = 0; a < 3; a++) {
    var b = '\0\0'.slice(2 - a) + bytes + '\0\0';
    var out = '';
    for (var k = 0; k + 2 < b.length; k += 3) {
      var n = b.charCodeAt(k) << 16 | b.charCodeAt(k + 1) << 8 | b.charCodeAt(k + 2);
      for (var j = 18; j >= 0; j -= 6) out += MASK_B64[n >> j & 63];
    }
    var m = a + bytes.length;
    out = out.slice(Math.ceil(a * 4 / 3), Math.floor(m * 4 / 3));
    if (out.length >= MASK_B64_MIN) forms.push({ text: out, lead: a, trail: m % 3 }, { text: out.replace(/\+/g, '-').replace(/\//g, '_'), lead: a, trail: m % 3 });
  }
  return forms;
}

var MASK_JSON_UNICODE = /\\u([0-9a-fA-F]{4})/y;
var MASK_XML_ENTITY = /&(?:#[xX]([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(amp|lt|gt|quot|apos));/y;
var MASK_URL_BYTES = /(?:%[0-9a-fA-F]{2}){1,4}/y;

// One decoding step at text[i]: { text, length } or null when nothing of `kinds` starts there.
function maskDecodeAt(text, i, kinds) {
  var ch = text.charAt(i);
  var m;
  if (kinds.json && ch === '\\') {
    MASK_JSON_UNICODE.lastIndex = i;
    m = MASK_JSON_UNICODE.exec(text);
    if (m) return { text: String.fromCharCode(parseInt(m[1], 16)), length: 6 };
    var next = text.charAt(i + 1);
    if (Object.prototype.hasOwnProperty.call(MASK_JSON_ESCAPES, next)) return { text: MASK_JSON_ESCAPES[next], length: 2 };
  }
  if (kinds.xml && ch === '&') {
    MASK_XML_ENTITY.lastIndex = i;
    m = MASK_XML_ENTITY.exec(text);
    if (m) {
      var code = m[1] ? parseInt(m[1], 16) : m[2] ? parseInt(m[2], 10) : -1;
      if (code > 0x10ffff) return null;
      return { text: code === -1 ? MASK_XML_NAMED[m[3]] : String.fromCodePoint(code), length: m[0].length };
    }
  }
  if (kinds.url && ch === '%') {
    MASK_URL_BYTES.lastIndex = i;
    m = MASK_URL_BYTES.exec(text);
    if (m) {
      // The longest run of %XX that is valid UTF-8, else one byte as it is.
      for (var n = m[0].length; n >= 3; n -= 3) {
        try {
          return { text: decodeURIComponent(m[0].slice(0, n)), length: n };
        } catch (e) { /* try a shorter run */ }
      }
    }
  }
  return null;
}

// The text decoded for `kinds`, with the source range [from[k], to[k]) of each decoded character.
// A decoded text is never longer than its source, so the ranges fit in arrays of the source length.
function maskDecode(text, kinds) {
  var parts = [];
  var from = new Int32Array(text.length);
  var to = new Int32Array(text.length);
  var n = 0;
  var special = new RegExp('[' + (kinds.json ? '\\\\' : '') + (kinds.xml ? '&' : '') + (kinds.url ? '%' : '') + ']', 'g');
  for (var i = 0; i < text.length;) {
    special.lastIndex = i;
    var found = special.exec(text);
    var j = found ? found.index : text.length;
    if (j > i) {
      parts.push(text.slice(i, j));
      for (var p = i; p < j; p++, n++) {
        from[n] = p;
        to[n] = p + 1;
      }
      i = j;
      continue;
    }
    var step = maskDecodeAt(text, i, kinds) || { text: text.charAt(i), length: 1 };
    parts.push(step.text);
    for (var k = 0; k < step.text.length; k++, n++) {
      from[n] = i;
      to[n] = i + step.length;
    }
    i += step.length;
  }
  return { text: parts.join(''), from: from, to: to };
}

// Source ranges to mask in one reading; `edge`: also a secret's beginning at the very end of the
// text (an answer cut short in the middle of a secret).
// A reading without `from`/`to` is the text itself.
function maskRanges(reading, units, edge) {
  var ranges = [];
  var text = reading.text;
  var range = function (first, last) {
    return reading.from ? [reading.from[first], reading.to[last]] : [first, last + 1];
  };
  units.forEach(function (form) {
    var unit = form.text;
    for (var at = text.indexOf(unit); at !== -1; at = text.indexOf(unit, at + unit.length)) {
      MASK_B64_TAIL.lastIndex = at + unit.length;
      var last = at + unit.length - 1 + (form.trail ? MASK_B64_TAIL.exec(text)[0].length : 0);
      ranges.push(range(at - (form.lead && /[\w+/-]/.test(text.charAt(at - 1)) ? 1 : 0), last));
    }
    if (!edge || unit.length > MASK_EDGE_MAX) return;
    for (var k = Math.min(unit.length - 1, text.length); k >= MASK_EDGE_MIN; k--) {
      if (text.slice(text.length - k) === unit.slice(0, k)) {
        ranges.push(range(text.length - k, text.length - 1));
        break;
      }
    }
  });
  return ranges;
}

// The units and their base64 forms for the last secrets seen: Node masks every string of a run with
// the same secrets.
var MASK_CACHE = {};

// Replaces every secret, in every encoding, with the mask. options.edge: see maskRanges.
function maskSecrets(text, secrets, options) {
  text = String(text === undefined || text === null ? '' : text);
  var key = (secrets || []).join('\n\0');
  var units = MASK_CACHE[key] || ((MASK_CACHE = {})[key] = [].concat.apply([], maskUnits(secrets).map(function (unit) {
    return [{ text: unit }].concat(maskBase64Units(unit));
  })));
  if (units.length === 0 || text === '') return text;
  var edge = Boolean(options && options.edge);
  var readings = [{}, { json: true }, { xml: true }, { url: true }, { json: true, xml: true, url: true }];
  var ranges = [];
  readings.forEach(function (kinds) {
    var plain = !kinds.json && !kinds.xml && !kinds.url;
    if (!plain && !/[\\&%]/.test(text)) return;
    ranges = ranges.concat(maskRanges(plain ? { text: text } : maskDecode(text, kinds), units, edge));
  });
  if (ranges.length === 0) return text;
  ranges.sort(function (a, b) { return a[0] - b[0]; });
  var out = '';
  var last = 0;
  ranges.forEach(function (r) {
    if (r[1] <= last) return;
    if (r[0] >= last) out += text.slice(last, r[0]) + MASK_MARK;
    last = r[1];
  });
  return out + text.slice(last);
}
