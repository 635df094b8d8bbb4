import type { TestKeys } from './generate-keys.js';
import { usesCertificate, usesPublicKey, type KeyMode } from './key-mode.js';

/**
 * The trust kit: what the merchant's TEST server must trust so that callbacks signed by wxpay-notify
 * verify there. Pure: returns file contents keyed by path relative to the project folder.
 */

export const TRUST_KIT_DIR = 'trust-kit';
export const TRUST_KIT_FILES = {
  publicKey: `${TRUST_KIT_DIR}/wechatpay-test-public-key.pem`,
  certificate: `${TRUST_KIT_DIR}/wechatpay-test-platform-cert.pem`,
  readme: `${TRUST_KIT_DIR}/README.md`,
} as const;

export interface RenderedFile {
  content: string;
  /** True when the content holds a secret: written with mode 0600 and never printed. */
  secret: boolean;
}

export interface TrustKitOptions {
  /** The project name from the config, shown in the README title. */
  projectName: string;
  /** Which verification keys the test server uses; only those files and values are written. */
  keyMode?: KeyMode;
}

export function renderTrustKit(keys: TestKeys, options: TrustKitOptions): Record<string, RenderedFile> {
  const mode = options.keyMode ?? 'both';
  return {
    ...(usesPublicKey(mode)
      ? { [TRUST_KIT_FILES.publicKey]: { content: keys.publicKey.publicKeyPem, secret: false } }
      : {}),
    ...(usesCertificate(mode)
      ? { [TRUST_KIT_FILES.certificate]: { content: keys.certificate.certificatePem, secret: false } }
      : {}),
    [TRUST_KIT_FILES.readme]: { content: renderTrustKitReadme(keys, options), secret: true },
  };
}

/**
 * README for whoever runs the merchant's TEST server. Contains the TEST API keys: it is secret.
 *
 * The wechatpayv3 and WxJava notes were checked against their sources:
 * - minibear2021/wechatpayv3 wechatpayv3/core.py (b0408d9): `Core.__init__` loads cert_dir only without
 *   a public key; `_verify_signature` takes the public key when the serial equals public_key_id, else
 *   parses the serial as hex (`int('0x' + serial_no, 16)`) and calls `_update_certificates` (a download
 *   from WeChat Pay) for an unknown one; no timestamp check. `callback()` returns None on failure.
 * - binarywang/WxJava weixin-java-pay (3e48dc7): config/WxPayConfig.java `initApiV3HttpClient` picks
 *   `PublicCertificateVerifier` when a public key is set, else `AutoUpdateCertificatesVerifier`;
 *   v3/auth/PublicCertificateVerifier.java `verify` ignores the serial; service/impl/BaseWxPayServiceImpl.java
 *   skips verification for a null SignatureHeader and throws on WECHATPAY/SIGNTEST/; bean/result/
 *   BaseWxPayResult.java `checkResult` checks the v2 sign only when `getSign() != null`.
 */
export function renderTrustKitReadme(keys: TestKeys, options: TrustKitOptions): string {
  const keyId = keys.publicKey.keyId;
  const serial = keys.certificate.serial;
  const pubPath = '/path/to/trust-kit/wechatpay-test-public-key.pem';
  const certPath = '/path/to/trust-kit/wechatpay-test-platform-cert.pem';
  const mode = options.keyMode ?? 'both';
  return `# wxpay-notify TEST trust kit — ${options.projectName}

> **TEST ONLY — never put any of this in a production configuration.**
> This file contains the TEST APIv2 and APIv3 keys: keep it out of version control and share it only
> with whoever runs the merchant's test server.

## Why your real WeChat Pay keys cannot be used

wxpay-notify simulates WeChat Pay (微信支付) callback notifications. A real v3 callback is signed
with a private key that only WeChat Pay holds — the private half of the WeChat Pay public key
(微信支付公钥) or of the platform certificate (平台证书). WeChat never hands that private key out, so
no simulator can make a signature that your production configuration would accept. wxpay-notify
therefore signs with its own TEST keys, and your **TEST** configuration must trust them instead.
The APIv3 key (which encrypts \`resource\`) and the APIv2 key (v2 \`sign\` and refund \`req_info\`)
are secrets you share with WeChat; the simulator uses TEST ones, so your test server must too.

Trusting these keys in production would let anyone who holds the TEST private keys forge payment
callbacks. Keep them in a separate test profile; never add them to the production trust list.

## Values for the merchant's TEST configuration

| what | value | used for |
| --- | --- | --- |
${
  usesPublicKey(mode)
    ? `| WeChat Pay public key ID (微信支付公钥ID) | \`${keyId}\` | \`Wechatpay-Serial\` of public-key-signed callbacks |
| WeChat Pay public key | \`wechatpay-test-public-key.pem\` | verifies those signatures |
`
    : ''
}${
    usesCertificate(mode)
      ? `| platform certificate serial (平台证书序列号) | \`${serial}\` | \`Wechatpay-Serial\` of certificate-signed callbacks |
| platform certificate | \`wechatpay-test-platform-cert.pem\` | verifies those signatures (self-signed TEST certificate) |
`
      : ''
  }| APIv3 key (APIv3密钥) | \`${keys.apiV3Key}\` | decrypts v3 \`resource\` (AEAD_AES_256_GCM) |
| APIv2 key (APIv2密钥) | \`${keys.apiKey}\` | v2 \`sign\` (MD5 / HMAC-SHA256); refund \`req_info\` key = lower-case hex MD5 of it |

Choose the verification key by the \`Wechatpay-Serial\` header: the public key ID selects the public
key, the certificate serial selects the certificate, and any other serial must be rejected (4xx/5xx).
${
  mode === 'both'
    ? 'The simulator sends both, as WeChat does while a merchant moves from certificate to public key.'
    : `This kit is for a ${mode === 'public-key' ? 'public-key-only (微信支付公钥)' : 'certificate-only (平台证书)'} set-up: every callback carries that serial. The SDK notes below show both modes; use the ${mode === 'public-key' ? 'public-key' : 'certificate'} lines.`
}

## Where each value goes, per SDK

Check these names against the SDK version you use; the snippets show where values go, not full code.

### PHP — wechatpay-php

The \`certs\` map given to \`Builder::factory\` is keyed by serial; in the TEST profile:

\`\`\`php
'certs' => [
${usesPublicKey(mode) ? `    '${keyId}' => Rsa::from('file://${pubPath}', Rsa::KEY_TYPE_PUBLIC),\n` : ''}${usesCertificate(mode) ? `    '${serial}' => Rsa::from('file://${certPath}', Rsa::KEY_TYPE_PUBLIC),\n` : ''}],
\`\`\`

In the notify handler take the key from the same map by \`Wechatpay-Serial\` (unknown → reject),
check it with \`Rsa::verify(...)\`, then \`AesGcm::decrypt($ciphertext, $apiv3Key, $nonce, $associatedData)\`
with the TEST APIv3 key.

### Java — wechatpay-java

\`\`\`java
// public-key mode
new RSAPublicKeyNotificationConfig.Builder()
    .publicFromPath("${pubPath}")
    .publicKeyId("${keyId}")
    .apiV3Key(testApiV3Key)
    .build();
// or, certificate mode
new RSANotificationConfig.Builder()
    .certificatesFromPath("${certPath}")
    .apiV3Key(testApiV3Key)
    .build();
\`\`\`

- Pass the config to \`new NotificationParser(config)\`. The client config \`RSAPublicKeyConfig.Builder()\`
  takes the same values as \`.publicKeyFromPath(...)\` (note the name), \`.publicKeyId(...)\`, \`.apiV3Key(...)\`,
  besides the merchant's own key and serial.
- **Cannot** trust the TEST certificate: \`RSAAutoCertificateConfig\`, \`RSAAutoCertificateNotificationConfig\`
  and \`RSACombinedNotificationConfig\` — they download platform certificates from WeChat Pay.
- Both modes at once: \`NotificationParser\` keeps one verifier per signature type, so two configs do
  not add up. Recent versions have \`new RSAVerifier(publicKey, "${keyId}", new InMemoryCertificateProvider(certificates))\`,
  which picks by serial; pass it to \`new NotificationParser(verifiers, ciphers)\` under
  \`WECHATPAY2-SHA256-RSA2048\`, with an \`AeadAesCipher\` under \`AEAD_AES_256_GCM\`.

### Go — wechatpay-go

\`\`\`go
// public-key mode
publicKey, err := utils.LoadPublicKeyWithPath("${pubPath}")
verifier := verifiers.NewSHA256WithRSAPubkeyVerifier("${keyId}", *publicKey)
// or, certificate mode
cert, err := utils.LoadCertificateWithPath("${certPath}")
certificates := core.NewCertificateMapWithList([]*x509.Certificate{cert})
verifier = verifiers.NewSHA256WithRSAVerifier(certificates)
// both modes: verifiers.NewSHA256WithRSACombinedVerifier(certificates, "${keyId}", *publicKey)
handler, err := notify.NewRSANotifyHandler(testAPIv3Key, verifier)
\`\`\`

Do not use the automatic certificate download for the TEST certificate: it fetches WeChat's.

### Node — wechatpay-axios-plugin

\`\`\`js
const trusted = {
${usesPublicKey(mode) ? `  '${keyId}': Rsa.from(readFileSync('${pubPath}'), Rsa.KEY_TYPE_PUBLIC),\n` : ''}${usesCertificate(mode) ? `  '${serial}': Rsa.from(readFileSync('${certPath}'), Rsa.KEY_TYPE_PUBLIC),\n` : ''}};
\`\`\`

In the notify handler pick the key by \`Wechatpay-Serial\` (unknown → reject), check it with
\`Rsa.verify(message, signature, key)\`, then \`Aes.AesGcm.decrypt(...)\` with the TEST APIv3 key. Its
argument order changed between plugin versions (older: nonce, key, ciphertext, aad; newer:
ciphertext, key, nonce, aad): check yours.

### Python — wechatpayv3 (minibear2021/wechatpayv3)

\`\`\`python
# public-key mode (微信支付公钥)
with open('${pubPath}') as f:
    public_key = f.read()
wxpay = WeChatPay(..., apiv3_key=TEST_APIV3_KEY, public_key=public_key, public_key_id='${keyId}')
# or certificate mode (平台证书): cert_dir is a folder holding the TEST certificate
wxpay = WeChatPay(..., apiv3_key=TEST_APIV3_KEY, cert_dir='/path/to/trust-kit')
\`\`\`

- In the notify view pass the headers and the **raw** body: \`wxpay.callback(request.headers, request.data)\`
  (Flask). It returns None when verification or decryption fails: answer 4xx/5xx then.
- One mode at a time. With \`public_key\` it does not load \`cert_dir\`, and a certificate serial makes it
  download certificates from WeChat Pay; with \`cert_dir\` alone a \`PUB_KEY_ID_…\` serial is read as hex and
  raises. So give wxpay-notify the same single mode: \`wxpay-notify init --key-mode public-key\` or
  \`--key-mode certificate\` writes a config with only that signer (every callback then carries its serial).
- It does not check \`Wechatpay-Timestamp\`: reject timestamps more than 5 minutes off yourself (the
  stale/future-timestamp cases).
- v3 only; v2 notifications need another library or your own XML handling.

### Java — WxJava (binarywang/WxJava, weixin-java-pay)

\`\`\`java
WxPayConfig config = new WxPayConfig();
config.setApiV3Key(testApiV3Key);
config.setPublicKeyPath("${pubPath}");
config.setPublicKeyId("${keyId}");
config.setMchKey(testApiV2Key);          // APIv2 key: v2 sign and refund req_info
config.setSignType("HMAC-SHA256");       // only if your orders are HMAC-signed
\`\`\`

- Public-key mode only: without a public key it downloads platform certificates from WeChat Pay, so it
  cannot trust the TEST certificate. Use a public-key-only config (\`wxpay-notify init --key-mode public-key\`).
- v3: \`parseOrderNotifyV3Result(body, new SignatureHeader(timestamp, nonce, signature, serial))\` with
  the raw body and the four \`Wechatpay-*\` headers. A null header skips verification, and the public-key
  verifier ignores the serial: check that \`Wechatpay-Serial\` is your public key ID and that
  \`Wechatpay-Timestamp\` is within 5 minutes yourself.
- v2: \`parseOrderNotifyResult(xml)\` checks \`sign\` only when one is present: reject a notification
  without \`sign\` yourself. \`parseRefundNotifyResult(xml)\` decrypts \`req_info\` with \`mchKey\`.

### v2 (XML) notifications

Use the TEST APIv2 key wherever the test server checks the v2 \`sign\` and decrypts refund \`req_info\`.
`;
}
