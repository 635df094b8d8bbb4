// Secret masking, one implementation: the test script masks what it quotes from an answer before it
// cuts the quote short, and Node loads this same text to mask everything it prints or writes.
//
// A receiver may echo a secret escaped as JSON (\" \\ \/ \uXXXX), XML/HTML (&amp; &#38; &#x26;) or
// URL (%26). Each is found by reading the text once per encoding, decoded, with every decoded
// character remembering where it came from; a secret found in a decoded reading masks exactly the
// source characters it came from. Reading each encoding on its own (and then all together) keeps
// one encoding's escapes from spoiling the match of another's.
//
// Base64 (standard or URL-safe, padded or not, alone or inside a longer base64 text, and in any of
// the readings above) is found by decoding instead: see maskBase64Readings.

var MASK_MARK = '\u2039redacted\u203a';
var MASK_MIN_LENGTH = 8;
var MASK_MIN_LINE = 40;
var MASK_EDGE_MAX = 256;
var MASK_EDGE_MIN = 4;
var MASK_XML_NAMED = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
var MASK_B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
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

// Each run of at least 10 base64 characters of a reading, decoded to bytes (one char per byte) from
// each of its first four characters: whatever text came before the base64 began, one of the four
// decodings is aligned with its groups, so a secret's UTF-8 bytes at any of the three byte
// alignments show up in one of them. The 10-character floor keeps ordinary words from being
// decoded at all (a secret is at least 8 bytes, 11 characters).
function maskBase64Readings(reading) {
  var found = [];
  var runs = /[\w+/-]{10,}=*/g;
  for (var m; (m = runs.exec(reading.text));) {
    var run = m[0].replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
    for (var o = 0; o < 4; o++) found.push(maskBase64Reading(reading, run.slice(o), m.index + o, m.index + m[0].length));
  }
  return found;
}

// One decoding of base64 that starts at `at` in the reading. A byte's range is the characters that
// hold its bits (the last byte's also the padding after it), so a match masks every character that
// holds part of the secret. Buffer where the runtime has one (fast); QuickJS may not.
function maskBase64Reading(reading, run, at, end) {
  var n = run.length * 3 >> 2;
  var bytes = '';
  if (typeof Buffer === 'function') bytes = Buffer.from(run, 'base64').toString('latin1');
  else for (var g = 0; g < run.length; g += 4) {
    var v = 0;
    for (var j = 0; j < 4; j++) v = v << 6 | MASK_B64.indexOf(run.charAt(g + j));
    bytes += String.fromCharCode(v >> 16, v >> 8 & 255, v & 255);
  }
  return {
    text: bytes.slice(0, n),
    end: end === reading.text.length,
    range: function (first, last) {
      var a = at + (first * 4 / 3 | 0);
      var b = last === n - 1 ? end : at + ((8 * last + 7) / 6 | 0) + 1;
      return reading.from ? [reading.from[a], reading.to[b - 1]] : [a, b];
    },
  };
}

// Source ranges to mask in one reading; `edge`: also a secret's beginning at the very end of the
// text (an answer cut short in the middle of a secret).
// A reading without `from`/`to` or `range` is the text itself.
function maskRanges(reading, units, edge) {
  var ranges = [];
  var text = reading.text;
  var range = reading.range || function (first, last) {
    return reading.from ? [reading.from[first], reading.to[last]] : [first, last + 1];
  };
  units.forEach(function (unit) {
    for (var at = text.indexOf(unit); at !== -1; at = text.indexOf(unit, at + unit.length)) {
      ranges.push(range(at, at + unit.length - 1));
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

// Replaces every secret, in every encoding, with the mask. options.edge: see maskRanges.
function maskSecrets(text, secrets, options) {
  text = String(text === undefined || text === null ? '' : text);
  var units = maskUnits(secrets);
  if (units.length === 0 || text === '') return text;
  var edge = Boolean(options && options.edge);
  var readings = [{}, { json: true }, { xml: true }, { url: true }, { json: true, xml: true, url: true }];
  var ranges = [];
  var bytes;
  readings.forEach(function (kinds) {
    var plain = !kinds.json && !kinds.xml && !kinds.url;
    if (!plain && !/[\\&%]/.test(text)) return;
    var reading = plain ? { text: text } : maskDecode(text, kinds);
    ranges = ranges.concat(maskRanges(reading, units, edge));
    maskBase64Readings(reading).forEach(function (decoded) {
      // The units' UTF-8 bytes, one char per byte (no runtime offers TextEncoder, not every one a
      // Buffer): ASCII as it is; a lone surrogate has no UTF-8 form, and then matches no bytes.
      bytes = bytes || units.map(function (unit) {
        try {
          return /[^\0-\x7f]/.test(unit) ? unescape(encodeURIComponent(unit)) : unit;
        } catch (e) {
          return unit;
        }
      });
      ranges = ranges.concat(maskRanges(decoded, bytes, edge && decoded.end));
    });
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
