// Crypto for the Postman sandbox, which has CryptoJS, Buffer and BigInt but no require('crypto'),
// WebCrypto or TextEncoder. Every function must give byte-identical results to Node's crypto
// (test/sandbox/crypto-parity.test.ts). Only CryptoJS APIs present in both 3.x (Postman's bundled
// copy) and 4.x are used. Strings cross into bytes as UTF-8 via Buffer, never via CryptoJS.enc.Utf8,
// so that lone surrogates and the like are encoded exactly as Node would encode them.

var CRYPTO_ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// DigestInfo DER prefix for SHA-256 (RFC 8017 section 9.2, note 1).
var CRYPTO_SHA256_DIGEST_INFO = '3031300d060960864801650304020105000420';

// 1.2.840.113549.1.1.1 (rsaEncryption), DER-encoded OID content.
var CRYPTO_RSA_OID = '2a864886f70d010101';

function cryptoUtf8(text) {
  return Buffer.from(String(text), 'utf8');
}

// Big-endian words, as CryptoJS stores them; trailing bytes of the last word are zero.
function cryptoWords(bytes) {
  var words = [];
  for (var i = 0; i < bytes.length; i += 4) {
    words.push(((bytes[i] << 24) | ((bytes[i + 1] || 0) << 16) | ((bytes[i + 2] || 0) << 8) | (bytes[i + 3] || 0)) | 0);
  }
  return CryptoJS.lib.WordArray.create(words, bytes.length);
}

function cryptoBytes(wordArray) {
  var out = Buffer.alloc(wordArray.sigBytes);
  for (var i = 0; i < out.length; i++) {
    out[i] = (wordArray.words[i >>> 2] >>> (24 - (i % 4) * 8)) & 0xff;
  }
  return out;
}

function md5Hex(text) {
  return CryptoJS.MD5(cryptoWords(cryptoUtf8(text))).toString(CryptoJS.enc.Hex);
}

function hmacSha256Hex(key, text) {
  return CryptoJS.HmacSHA256(cryptoWords(cryptoUtf8(text)), cryptoWords(cryptoUtf8(key))).toString(CryptoJS.enc.Hex);
}

function sha256Hex(text) {
  return CryptoJS.SHA256(cryptoWords(cryptoUtf8(text))).toString(CryptoJS.enc.Hex);
}

// CryptoJS silently accepts any key length (and treats a string key as a passphrase), so check it.
function cryptoAesKey(keyText) {
  var key = cryptoUtf8(keyText);
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new Error('AES key must be 16, 24 or 32 bytes, got ' + key.length);
  }
  return cryptoWords(key);
}

// Raw AES over whole bytes: padding is always ours, so CryptoJS never pads or unpads.
function cryptoAes(mode, key, bytes, iv) {
  var cfg = { mode: mode, padding: CryptoJS.pad.NoPadding };
  if (iv) cfg.iv = iv;
  return cryptoBytes(CryptoJS.AES.encrypt(cryptoWords(bytes), key, cfg).ciphertext);
}

function aesEcbEncryptBase64(keyText, plaintext) {
  var key = cryptoAesKey(keyText);
  var data = cryptoUtf8(plaintext);
  // PKCS#7 always adds 1..16 bytes: a full block when the length is already a multiple of 16.
  var pad = 16 - (data.length % 16);
  var padded = Buffer.concat([data, Buffer.alloc(pad, pad)]);
  return cryptoAes(CryptoJS.mode.ECB, key, padded).toString('base64');
}

function aesEcbDecryptText(keyText, base64) {
  var key = cryptoAesKey(keyText);
  var data = Buffer.from(String(base64), 'base64');
  var fail = new Error('req_info does not decrypt: wrong key or not AES-ECB');
  if (data.length === 0 || data.length % 16 !== 0) throw fail;
  var plain = cryptoBytes(CryptoJS.AES.decrypt({ ciphertext: cryptoWords(data) }, key, {
    mode: CryptoJS.mode.ECB,
    padding: CryptoJS.pad.NoPadding,
  }));
  // CryptoJS's own Pkcs7.unpad trusts the last byte blindly; a wrong key must fail, as in Node.
  var pad = plain[plain.length - 1];
  if (pad < 1 || pad > 16) throw fail;
  for (var i = plain.length - pad; i < plain.length; i++) {
    if (plain[i] !== pad) throw fail;
  }
  return plain.subarray(0, plain.length - pad).toString('utf8');
}

// GF(2^128) multiply from NIST SP 800-38D algorithm 1, on four 32-bit words. Bit-serial is the
// simplest correct form and, on plain ints, fast enough (~1 µs per block).
function cryptoGfMultiply(x, h) {
  var z0 = 0, z1 = 0, z2 = 0, z3 = 0;
  var v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3];
  for (var i = 0; i < 128; i++) {
    if ((x[i >>> 5] >>> (31 - (i & 31))) & 1) {
      z0 ^= v0; z1 ^= v1; z2 ^= v2; z3 ^= v3;
    }
    var lsb = v3 & 1;
    v3 = (v3 >>> 1) | (v2 << 31);
    v2 = (v2 >>> 1) | (v1 << 31);
    v1 = (v1 >>> 1) | (v0 << 31);
    v0 = v0 >>> 1;
    if (lsb) v0 ^= 0xe1000000;
  }
  return [z0, z1, z2, z3];
}

// Folds bytes into the GHASH state y, zero-padding the last block as GCM requires.
function cryptoGhashUpdate(y, h, bytes) {
  var words = cryptoWords(bytes).words;
  for (var i = 0; i < words.length; i += 4) {
    y = cryptoGfMultiply([y[0] ^ (words[i] | 0), y[1] ^ (words[i + 1] | 0), y[2] ^ (words[i + 2] | 0), y[3] ^ (words[i + 3] | 0)], h);
  }
  return y;
}

// Shared by both directions: returns { data: the CTR output, tag } where the tag covers the ciphertext.
function cryptoGcm(keyText, nonceText, aadText, input, encrypting) {
  var key = cryptoAesKey(keyText);
  var nonce = cryptoUtf8(nonceText);
  if (nonce.length !== 12) {
    throw new Error('AES-GCM nonce must be 12 bytes (WeChat Pay sends 12 characters), got ' + nonce.length);
  }
  var aad = cryptoUtf8(aadText);
  var h = cryptoWords(cryptoAes(CryptoJS.mode.ECB, key, Buffer.alloc(16))).words;
  var j0 = Buffer.concat([nonce, Buffer.from([0, 0, 0, 1])]);
  var counter = Buffer.concat([nonce, Buffer.from([0, 0, 0, 2])]);
  // CryptoJS's CTR increments only the last 32-bit word, mod 2^32: exactly GCM's inc32.
  var data = input.length === 0 ? Buffer.alloc(0) : cryptoAes(CryptoJS.mode.CTR, key, input, cryptoWords(counter));
  var ciphertext = encrypting ? data : input;
  var y = cryptoGhashUpdate([0, 0, 0, 0], h, aad);
  y = cryptoGhashUpdate(y, h, ciphertext);
  // Lengths in bits as two 64-bit big-endian numbers; the high words matter only past 512 MB.
  y = cryptoGfMultiply([
    y[0] ^ Math.floor(aad.length / 0x20000000), y[1] ^ ((aad.length * 8) | 0),
    y[2] ^ Math.floor(ciphertext.length / 0x20000000), y[3] ^ ((ciphertext.length * 8) | 0),
  ], h);
  var mask = cryptoAes(CryptoJS.mode.ECB, key, j0);
  var tag = cryptoBytes(CryptoJS.lib.WordArray.create(y, 16));
  for (var i = 0; i < 16; i++) tag[i] ^= mask[i];
  return { data: data, tag: tag };
}

function aesGcmEncryptBase64(keyText, nonceText, aadText, plaintext) {
  var result = cryptoGcm(keyText, nonceText, aadText, cryptoUtf8(plaintext), true);
  return Buffer.concat([result.data, result.tag]).toString('base64');
}

function aesGcmDecryptText(keyText, nonceText, aadText, base64) {
  var all = Buffer.from(String(base64), 'base64');
  if (all.length < 16) throw new Error('AES-GCM ciphertext is shorter than its 16-byte tag');
  var body = all.subarray(0, all.length - 16);
  var result = cryptoGcm(keyText, nonceText, aadText, body, false);
  var diff = 0;
  for (var i = 0; i < 16; i++) diff |= result.tag[i] ^ all[all.length - 16 + i];
  if (diff !== 0) {
    throw new Error('AES-GCM tag mismatch: wrong APIv3 key, nonce or associated_data, or altered ciphertext');
  }
  return result.data.toString('utf8');
}

// One DER TLV at pos: { tag, start, end } where start..end is the content. Only definite lengths,
// which is all DER allows.
function cryptoDerRead(der, pos, expectedTag) {
  if (pos + 2 > der.length) throw new Error('the private key is truncated (bad DER)');
  var tag = der[pos];
  if (expectedTag !== undefined && tag !== expectedTag) {
    throw new Error('the private key is not RSA or is malformed (unexpected DER tag 0x' + tag.toString(16) + ')');
  }
  var len = der[pos + 1];
  var start = pos + 2;
  if (len & 0x80) {
    var count = len & 0x7f;
    if (count === 0 || count > 4) throw new Error('the private key is malformed (bad DER length)');
    len = 0;
    for (var i = 0; i < count; i++) len = len * 256 + der[start + i];
    start += count;
  }
  if (start + len > der.length) throw new Error('the private key is truncated (bad DER)');
  return { tag: tag, start: start, end: start + len };
}

function cryptoDerInteger(der, node) {
  var hex = der.subarray(node.start, node.end).toString('hex');
  return hex ? BigInt('0x' + hex) : BigInt(0);
}

// RSAPrivateKey (RFC 8017 A.1.2): version, n, e, d, p, q, dp, dq, qi.
function cryptoParsePkcs1(der, node) {
  var values = [];
  var pos = node.start;
  for (var i = 0; i < 9; i++) {
    var item = cryptoDerRead(der, pos, 0x02);
    values.push(cryptoDerInteger(der, item));
    pos = item.end;
  }
  if (values[0] !== BigInt(0)) throw new Error('multi-prime RSA private keys are not supported');
  var n = values[1];
  return { n: n, e: values[2], d: values[3], p: values[4], q: values[5], dp: values[6], dq: values[7], qi: values[8], bits: n.toString(2).length };
}

function parseRsaPrivateKeyPem(pem) {
  var text = String(pem).trim();
  var match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!match) throw new Error('the private key is not PEM (expected a BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY block)');
  var label = match[1];
  var body = match[2];
  if (label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,\s*ENCRYPTED/.test(body)) {
    throw new Error('the private key is encrypted; export it without a passphrase');
  }
  if (label === 'EC PRIVATE KEY' || label === 'DSA PRIVATE KEY' || label === 'OPENSSH PRIVATE KEY') {
    throw new Error('the private key is not RSA (' + label + '); WeChat Pay APIv3 uses RSA keys');
  }
  if (label !== 'PRIVATE KEY' && label !== 'RSA PRIVATE KEY') {
    throw new Error('expected a private key PEM, got ' + label + ' (use apiclient_key.pem, not the certificate)');
  }
  var base64 = body.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new Error('the private key PEM body is not base64');
  var der = Buffer.from(base64, 'base64');
  var outer = cryptoDerRead(der, 0, 0x30);
  if (label === 'RSA PRIVATE KEY') return cryptoParsePkcs1(der, outer);
  // PrivateKeyInfo (RFC 5208): version, AlgorithmIdentifier { OID, params }, OCTET STRING key.
  var version = cryptoDerRead(der, outer.start, 0x02);
  var algorithm = cryptoDerRead(der, version.end, 0x30);
  var oid = cryptoDerRead(der, algorithm.start, 0x06);
  if (der.subarray(oid.start, oid.end).toString('hex') !== CRYPTO_RSA_OID) {
    throw new Error('the private key is not RSA (PKCS#8 algorithm is not rsaEncryption); WeChat Pay APIv3 uses RSA keys');
  }
  var octets = cryptoDerRead(der, algorithm.end, 0x04);
  return cryptoParsePkcs1(der, cryptoDerRead(der, octets.start, 0x30));
}

// Left-to-right sliding-window exponentiation (window 5): about one multiply per six exponent
// bits instead of one per two, which is what keeps a 2048-bit signature within a few ms.
function cryptoModPow(base, exponent, modulus) {
  var bits = exponent.toString(2);
  var b = base % modulus;
  var square = (b * b) % modulus;
  var odd = [b]; // odd[k] = b^(2k+1)
  for (var k = 1; k < 16; k++) odd.push((odd[k - 1] * square) % modulus);
  var result = BigInt(1);
  var i = 0;
  while (i < bits.length) {
    if (bits[i] === '0') {
      result = (result * result) % modulus;
      i++;
      continue;
    }
    var j = Math.min(i + 5, bits.length);
    while (bits[j - 1] === '0') j--;
    for (var s = i; s < j; s++) result = (result * result) % modulus;
    result = (result * odd[(parseInt(bits.slice(i, j), 2) - 1) / 2]) % modulus;
    i = j;
  }
  return result;
}

function rsaSha256SignBase64(key, text) {
  var k = Math.ceil(key.bits / 8);
  var digestInfo = CRYPTO_SHA256_DIGEST_INFO + sha256Hex(text);
  var psLength = k - 3 - digestInfo.length / 2;
  if (psLength < 8) throw new Error('the RSA key is too short for SHA-256 signatures');
  // EMSA-PKCS1-v1_5: 00 01 FF..FF 00 DigestInfo (RFC 8017 section 9.2).
  var m = BigInt('0x0001' + 'ff'.repeat(psLength) + '00' + digestInfo);
  var m1 = cryptoModPow(m, key.dp, key.p);
  var m2 = cryptoModPow(m, key.dq, key.q);
  var h = (key.qi * (((m1 - m2) % key.p) + key.p)) % key.p;
  var s = m2 + h * key.q;
  // A damaged CRT part would sign wrongly without complaint; verifying costs ~0.1 ms. Like
  // OpenSSL (so Node and the sandbox agree on such keys), fall back to plain m^d mod n.
  if (cryptoModPow(s, key.e, key.n) !== m) s = cryptoModPow(m, key.d, key.n);
  if (cryptoModPow(s, key.e, key.n) !== m) throw new Error('the RSA private key is inconsistent (signature does not verify)');
  var hex = s.toString(16);
  return Buffer.from('0'.repeat(2 * k - hex.length) + hex, 'hex').toString('base64');
}

// v2 nonce_str as captured: 32 lower-case hex digits (templates/EVIDENCE.md).
function randomLowerHex(length) {
  var out = '';
  for (var i = 0; i < length; i++) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}

function randomAlphanumeric(length) {
  var out = '';
  for (var i = 0; i < length; i++) {
    out += CRYPTO_ALPHANUMERIC.charAt(Math.floor(Math.random() * CRYPTO_ALPHANUMERIC.length));
  }
  return out;
}
