import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, UserError } from '../shared/errors.js';
import { parseConfigText } from './parse-config-text.js';
import type { PlatformSigner, ResolvedConfig } from './types.js';
import { validateConfig, type Env } from './validate-config.js';
import { decodeUtf8 } from '../shared/utf8-text.js';
import { inert } from '../shared/inert-text.js';

const MAX_CONFIG_BYTES = 1024 * 1024;
/** A PEM private key is a few KiB: anything far larger is the wrong file. */
export const MAX_KEY_BYTES = 64 * 1024;
const MIN_RSA_BITS = 2048;

/**
 * The I/O edge of config/: read the file, parse, validate, then read and check the private key
 * files (relative paths resolve against the config file's folder). Every problem, in the config
 * and in the key files, is thrown together as one ConfigError.
 */
export interface LoadOptions {
  /**
   * false: do not read the private key files (privateKeyPem stays empty). For work that never
   * signs, such as `generate --no-secrets`, so it runs where the keys are not (CI, a fresh clone).
   */
  readKeys?: boolean;
}

export async function loadConfig(
  file: string,
  env: Env = process.env,
  options: LoadOptions = {},
): Promise<ResolvedConfig> {
  const configPath = resolve(file);
  const configDir = dirname(configPath);
  const text = await readConfigFile(file, configPath);
  const { config, problems, keyFiles } = validateConfig(parseConfigText(text, file), env);

  const pems = new Map<string, string>();
  for (const ref of options.readKeys === false ? [] : keyFiles) {
    const keyPath = resolve(configDir, ref.file);
    // A path built from ${NAME} is shown as written: messages never carry environment values.
    const result = readPrivateKey(keyPath, ref.written.includes('${') ? ref.written : keyPath);
    if ('problem' in result) problems.push({ path: ref.path, message: result.problem });
    else pems.set(ref.file, result.pem);
  }
  if (problems.length > 0 || !config) throw new ConfigError(file, problems);

  const resolved: ResolvedConfig = { ...config, configDir };
  if (config.v3) {
    const { platform, platformCertificate } = config.v3;
    const signer = (s: PlatformSigner): PlatformSigner => ({
      ...s,
      privateKeyFile: resolve(configDir, s.privateKeyFile),
      privateKeyPem: pems.get(s.privateKeyFile) ?? '',
    });
    resolved.v3 = { ...config.v3 };
    if (platform) resolved.v3.platform = signer(platform);
    if (platformCertificate) resolved.v3.platformCertificate = signer(platformCertificate);
  }
  return resolved;
}

async function readConfigFile(file: string, configPath: string): Promise<string> {
  try {
    const info = await stat(configPath);
    if (!info.isFile())
      throw new UserError(`config file ${inert(file)} is not a regular file (a directory?)`, 'E_CONFIG_UNREADABLE');
    if (info.size > MAX_CONFIG_BYTES)
      throw new UserError(
        `config file ${inert(file)} is ${info.size} bytes; a config is a few hundred`,
        'E_CONFIG_UNREADABLE',
      );
    const decoded = decodeUtf8(await readFile(configPath));
    if ('invalidAt' in decoded) {
      throw new UserError(
        `config file ${inert(file)} is not valid UTF-8: the byte at offset ${decoded.invalidAt} is not part of a UTF-8 character; save the file as UTF-8 (values are sent exactly as written, never with a replacement character)`,
        'E_CONFIG_ENCODING',
      );
    }
    return decoded.text;
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UserError(
        `config file not found: ${inert(file)}; run \`wxpay-notify init\` to create one`,
        'E_CONFIG_NOT_FOUND',
      );
    }
    throw new UserError(
      `cannot read config file ${inert(file)} (${code ?? 'unknown error'}); check its permissions`,
      'E_CONFIG_UNREADABLE',
    );
  }
}

/**
 * Reads a PEM file and checks it is an unencrypted RSA private key of at least 2048 bits: the one
 * key loader, for config files and for configs given in code. `shown` is how messages name the file.
 */
export function readPrivateKey(keyPath: string, shown: string): { pem: string } | { problem: string } {
  let pem: string;
  try {
    const info = statSync(keyPath);
    if (!info.isFile()) return { problem: `${shown} is not a file; point this at a PEM private key file` };
    if (info.size > MAX_KEY_BYTES)
      return { problem: `${shown} is ${info.size} bytes, too large for a PEM private key; point this at the key file` };
    pem = readFileSync(keyPath, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return {
        problem: `private key file not found: ${shown} (relative paths start from the config file's folder); run \`wxpay-notify init\` to create test keys`,
      };
    }
    const advice = code === 'EACCES' || code === 'EPERM' ? 'check its permissions' : 'check the path';
    return { problem: `cannot read private key file ${shown} (${code ?? 'unknown error'}); ${advice}` };
  }
  const problem = checkPrivateKeyPem(pem);
  return problem === undefined ? { pem } : { problem: `${shown} ${problem}` };
}

/** Why this PEM text is not a usable signer key (continues "<file> …"), or undefined when it is. */
export function checkPrivateKeyPem(pem: string): string | undefined {
  if (Buffer.byteLength(pem) > MAX_KEY_BYTES)
    return `is ${Buffer.byteLength(pem)} bytes, too large for a PEM private key; give the key itself`;
  const rsaAdvice =
    'WeChat Pay signs with RSA (SHA256-RSA2048): use a 2048-bit RSA private key (`wxpay-notify init` makes one)';
  if (!pem.includes('-----BEGIN ')) {
    return 'is not a PEM file (no "-----BEGIN" line); expected an RSA private key in PEM format (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)';
  }
  if (/-{5}BEGIN ENCRYPTED PRIVATE KEY-{5}/.test(pem) || /Proc-Type:\s*4,\s*ENCRYPTED/.test(pem)) {
    return 'is encrypted with a passphrase; export it without a passphrase, e.g. `openssl pkey -in encrypted.pem -out plain.pem`';
  }
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
    return 'holds no private key (a certificate or public key?); the simulator signs as WeChat Pay, so it needs the private key of the pair';
  }
  let key;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    if (errorCode(error) === 'ERR_MISSING_PASSPHRASE') {
      return 'is encrypted with a passphrase; export it without a passphrase, e.g. `openssl pkey -in encrypted.pem -out plain.pem`';
    }
    return `is not a valid PEM private key (${errorCode(error) ?? 'unreadable'}); export the key again or run \`wxpay-notify init\``;
  }
  if (key.asymmetricKeyType !== 'rsa')
    return `holds a key of type "${key.asymmetricKeyType ?? 'unknown'}", not RSA; ${rsaAdvice}`;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) return `is a ${bits}-bit RSA key; ${rsaAdvice}`;
  // A damaged key can still parse; every notification signed with it would then fail to verify on
  // the merchant side and look like the merchant's fault. One signature tells.
  try {
    const probe = Buffer.from('wxpay-notify key check');
    if (!verify('sha256', probe, createPublicKey(key), sign('sha256', probe, key))) throw new Error('mismatch');
  } catch {
    return 'is damaged: its parts do not form a consistent RSA key (a signature made with it does not verify); export the key again or run `wxpay-notify init`';
  }
  return undefined;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
