import type { TestKeys } from './generate-keys.js';
import { renderTrustKit, TRUST_KIT_DIR, TRUST_KIT_FILES, type RenderedFile } from './trust-kit.js';
import { KEY_MODE_TEXT, usesCertificate, usesPublicKey, type KeyMode } from './key-mode.js';

/**
 * What `wxpay-notify init` writes, as pure functions of the keys: the example config, the secrets
 * file, the private keys and the trust kit, plus the summary printed afterwards. init-project.ts
 * does the writing.
 */

export const KEYS_DIR = 'keys';
export const INIT_FILES = {
  config: 'wxpay-notify.jsonc',
  secrets: `${KEYS_DIR}/secrets.env`,
  publicKeyPrivate: `${KEYS_DIR}/wechatpay-test-public-key-private.pem`,
  certificatePrivate: `${KEYS_DIR}/wechatpay-test-cert-private.pem`,
} as const;

/** Environment variables holding the TEST API keys; the config refers to them as `${NAME}`. */
export const SECRET_ENV = { apiKey: 'WXPAY_V2_API_KEY', apiV3Key: 'WXPAY_V3_API_KEY' } as const;

export const EXAMPLE_PROJECT_NAME = 'my-shop';

const q = (value: string): string => JSON.stringify(value);

/**
 * The example config (docs/config.md) as JSONC, in a `.jsonc` file so editors accept its comments.
 * Comments sit on lines of their own, never after a value, so even a line-based comment stripper
 * cannot cut into the `//` of a URL.
 */
export function renderExampleConfig(keys: TestKeys, keyMode: KeyMode = 'both', schemaPath?: string): string {
  const env = (name: string): string => q(`\${${name}}`);
  const schema =
    schemaPath === undefined
      ? ''
      : `  // The JSON Schema your editor completes and checks this file with (wxpay-notify ignores it).\n  "$schema": ${q(schemaPath)},\n`;
  return `// wxpay-notify config, written by \`wxpay-notify init\` (JSON with // comments on their own lines).
// Any string may be "\${NAME}", read from the environment; relative paths resolve against this file.
// The keys it refers to are wxpay-notify's TEST keys: never WeChat Pay's, never production.
{
${schema}  // Collection name; output file names derive from it.
  "name": ${q(EXAMPLE_PROJECT_NAME)},
  // Example IDs from WeChat's documentation: put your TEST appid and mchid here.
  "appid": "wx2421b1c4370ec43b",
  "mchid": "1900000109",
  // v2 (XML) notifications; remove this block to generate no v2 cases.
  "v2": {
    // Your TEST server. (Real WeChat Pay needs public https URLs; the simulator can reach localhost.)
    "notifyUrl": "http://127.0.0.1:8080/wxpay/v2/notify",
    "refundNotifyUrl": "http://127.0.0.1:8080/wxpay/v2/refund-notify",
    // APIv2 key (APIv2密钥), 32 chars: the TEST key in ${INIT_FILES.secrets}.
    "apiKey": ${env(SECRET_ENV.apiKey)},
    // "MD5" or "HMAC-SHA256".
    "signType": "MD5"
  },
  // v3 (JSON) notifications; remove this block to generate no v3 cases.
  "v3": {
    "notifyUrl": "http://127.0.0.1:8080/wxpay/v3/notify",
    "refundNotifyUrl": "http://127.0.0.1:8080/wxpay/v3/refund-notify",
    // APIv3 key (APIv3密钥), 32 chars: the TEST key in ${INIT_FILES.secrets}.
    "apiV3Key": ${env(SECRET_ENV.apiV3Key)},
${renderSigners(keys, keyMode)}
  },
  // The order the notifications describe (each case derives its own order numbers from these);
  // total in fen, at least 2 for the coupon cases. The other order fields have defaults.
  "order": { "outTradeNo": "T20261127000001", "total": 100, "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" }
}
`;
}

/** The v3 signer blocks for the chosen key mode; one comment says which set-up this config expects. */
function renderSigners(keys: TestKeys, keyMode: KeyMode): string {
  const publicKey = `    "platform": {
      "privateKeyFile": ${q(INIT_FILES.publicKeyPrivate)},
      "serial": ${q(keys.publicKey.keyId)}
    }`;
  const certificate = `    "platformCertificate": {
      "privateKeyFile": ${q(INIT_FILES.certificatePrivate)},
      "serial": ${q(keys.certificate.serial)}
    }`;
  if (keyMode === 'public-key') {
    return `    // Simulated WeChat Pay public-key signer (微信支付公钥): the merchant's TEST config trusts this ID.
    // (Certificate-only merchants use "platformCertificate" instead; \`init --key-mode\` writes either.)
${publicKey}`;
  }
  if (keyMode === 'certificate') {
    return `    // Simulated platform-certificate signer (平台证书): the merchant's TEST config trusts this serial.
    // (Merchants on the WeChat Pay public key use "platform" instead; \`init --key-mode\` writes either.)
${certificate}`;
  }
  return `    // Simulated WeChat Pay public-key signer (微信支付公钥); the merchant's TEST config trusts this ID.
${publicKey},
    // Simulated platform-certificate signer (平台证书). With both signers the suite also sends the
    // key-mode cases (certificate serial, public key ID, a mix of the two, as during the switch-over).
${certificate}`;
}

export function renderSecretsEnv(keys: TestKeys): string {
  return `# wxpay-notify TEST API keys, made by \`wxpay-notify init\`. TEST ONLY, never production.
# Load into the environment before running wxpay-notify (from the folder that holds ${INIT_FILES.config}):
#   set -a; . ./${INIT_FILES.secrets}; set +a
${SECRET_ENV.apiKey}=${keys.apiKey}
${SECRET_ENV.apiV3Key}=${keys.apiV3Key}
`;
}

/** Every file init writes, keyed by path relative to the project folder (always `/`-separated). */
export function planInitFiles(
  keys: TestKeys,
  keyMode: KeyMode = 'both',
  schemaPath?: string,
): Record<string, RenderedFile> {
  return {
    [INIT_FILES.config]: { content: renderExampleConfig(keys, keyMode, schemaPath), secret: false },
    [INIT_FILES.secrets]: { content: renderSecretsEnv(keys), secret: true },
    ...(usesPublicKey(keyMode)
      ? { [INIT_FILES.publicKeyPrivate]: { content: keys.publicKey.privateKeyPem, secret: true } }
      : {}),
    ...(usesCertificate(keyMode)
      ? { [INIT_FILES.certificatePrivate]: { content: keys.certificate.privateKeyPem, secret: true } }
      : {}),
    ...renderTrustKit(keys, { projectName: EXAMPLE_PROJECT_NAME, keyMode }),
  };
}

export interface SummaryInput {
  /** Absolute project folder. */
  dir: string;
  /** How to name the secrets file in a shell command run from the user's current folder. */
  secretsPathForShell: string;
  /** How to name the config in a shell command run from the user's current folder. */
  configPathForShell: string;
  keyMode: KeyMode;
  keyId: string;
  serial: string;
  /** The .gitignore that was updated and the entries added, if any. */
  gitignore?: { file: string; added: string[] };
  /** Set when .gitignore should have been updated but could not be. */
  gitignoreProblem?: string;
}

/** The text `init` prints. It names files, never their secret contents. */
export function renderInitSummary(input: SummaryInput): string {
  const f = INIT_FILES;
  const t = TRUST_KIT_FILES;
  const lines = [
    `wxpay-notify init: wrote TEST keys and an example config in ${input.dir}`,
    '',
    `  ${f.config.padEnd(44)} example config: set your notify URLs, appid, mchid`,
    `  ${f.secrets.padEnd(44)} TEST APIv2 and APIv3 keys (secret, mode 600)`,
    ...(usesPublicKey(input.keyMode)
      ? [`  ${f.publicKeyPrivate.padEnd(44)} TEST private key, public-key mode (secret, mode 600)`]
      : []),
    ...(usesCertificate(input.keyMode)
      ? [`  ${f.certificatePrivate.padEnd(44)} TEST private key, certificate mode (secret, mode 600)`]
      : []),
    ...(usesPublicKey(input.keyMode) ? [`  ${t.publicKey.padEnd(44)} TEST WeChat Pay public key`] : []),
    ...(usesCertificate(input.keyMode)
      ? [`  ${t.certificate.padEnd(44)} TEST platform certificate (self-signed)`]
      : []),
    `  ${t.readme.padEnd(44)} how to trust these, per SDK (holds the TEST API keys, mode 600)`,
    '',
    `What to put in the merchant's TEST configuration (never production; key mode: ${KEY_MODE_TEXT[input.keyMode]}):`,
    ...(usesPublicKey(input.keyMode)
      ? [`  WeChat Pay public key ID      ${input.keyId}`, `  WeChat Pay public key         ${t.publicKey}`]
      : []),
    ...(usesCertificate(input.keyMode)
      ? [`  platform certificate serial   ${input.serial}`, `  platform certificate          ${t.certificate}`]
      : []),
    `  APIv3 key and APIv2 key       in ${f.secrets} (also listed in ${t.readme})`,
    '',
  ];
  if (input.gitignore && input.gitignore.added.length > 0) {
    lines.push(`Added ${input.gitignore.added.join(' and ')} to ${input.gitignore.file}: never commit keys.`, '');
  } else if (input.gitignoreProblem) {
    lines.push(`Could not update .gitignore (${input.gitignoreProblem}).`);
    lines.push(`Keep ${KEYS_DIR}/ and ${TRUST_KIT_DIR}/ out of version control yourself.`, '');
  }
  // `npx` because wxpay-notify is installed as a dev dependency: its bin is not on PATH, npx finds it.
  const cmd = 'npx wxpay-notify';
  lines.push(
    'Next: load the TEST API keys into the environment, point the config at your test server, then run:',
    `  set -a; . ${input.secretsPathForShell}; set +a`,
    `  ${cmd} doctor -c ${input.configPathForShell} --allow-private   # is the notify URL right and reachable?`,
    `  ${cmd} run -c ${input.configPathForShell}                      # send every case, judge every answer`,
    `  ${cmd} generate -c ${input.configPathForShell}                 # the Postman collection to import`,
    `(No test server yet? \`${cmd} serve -c ${input.configPathForShell}\` runs the reference receiver where the config's notify URLs point.)`,
  );
  return `${lines.join('\n')}\n`;
}
