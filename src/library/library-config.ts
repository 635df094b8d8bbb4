import { resolve } from 'node:path';
import { ConfigError, type ConfigProblem } from '../shared/errors.js';
import { checkPrivateKeyPem, readPrivateKey } from '../config/load-config.js';
import type { ResolvedConfig, WrittenConfig } from '../config/types.js';
import { validateConfig } from '../config/validate-config.js';

type Written = WrittenConfig;
type WrittenV3 = NonNullable<Written['v3']>;

/**
 * A simulated WeChat Pay signer given in code: the serial it announces and its private key, as PEM
 * text (`privateKeyPem`) or a file (`privateKeyFile`).
 */
export type SignerConfig = Omit<NonNullable<WrittenV3['platform']>, 'privateKeyFile'> & {
  privateKeyPem?: string;
  privateKeyFile?: string;
};

/**
 * A config given in code: the fields of wxpay-notify.json (typed from the same contract, so the two
 * cannot drift), with each signer's private key as PEM text or a file. `name` may be left out, and
 * so may every field the contract gives a default. A config returned by `loadConfig()` is accepted
 * as it is.
 */
export type NotifyConfig = Omit<Written, 'name' | 'v3'> & {
  name?: string;
  v3?: Omit<WrittenV3, 'platform' | 'platformCertificate'> & {
    platform?: SignerConfig;
    platformCertificate?: SignerConfig;
  };
};

const LABEL = 'wxpay-notify config';
const resolved = new WeakMap<object, ResolvedConfig>();

/**
 * Checks a config given in code with the rules the config file obeys (same messages, each naming
 * its field) and reads the signers' keys. Throws a ConfigError listing every problem.
 */
export function resolveConfig(input: NotifyConfig | ResolvedConfig): ResolvedConfig {
  const cached = resolved.get(input);
  if (cached) return cached;
  if (typeof input !== 'object' || input === null)
    throw new TypeError('expected a config object (the fields of wxpay-notify.json), or the result of loadConfig()');
  const { v3, order, ...rest } = input as NotifyConfig & { configDir?: string };
  delete (rest as { configDir?: string }).configDir;
  const raw: Record<string, unknown> = { name: 'wxpay-notify', ...rest };
  if (order !== undefined) raw.order = order;
  const pems: { path: string; signer: SignerConfig | undefined }[] = [];
  if (v3 !== undefined) {
    const signerFields = (signer: SignerConfig | undefined, path: string): unknown => {
      pems.push({ path, signer });
      if (typeof signer !== 'object' || signer === null) return signer;
      const { privateKeyPem: _pem, privateKeyFile, ...others } = signer;
      return { ...others, privateKeyFile: privateKeyFile ?? '(privateKeyPem)' };
    };
    raw.v3 = {
      ...v3,
      ...(v3.platform === undefined ? {} : { platform: signerFields(v3.platform, 'v3.platform') }),
      ...(v3.platformCertificate === undefined
        ? {}
        : { platformCertificate: signerFields(v3.platformCertificate, 'v3.platformCertificate') }),
    };
  }
  const { config, problems } = validateConfig(raw, process.env);
  const keys = pems.map(({ path, signer }) => ({ path, pem: signerPem(signer, path, problems) }));
  if (problems.length > 0 || !config) throw new ConfigError(LABEL, problems);

  const out: ResolvedConfig = { ...config, configDir: process.cwd() };
  if (out.v3) {
    const pem = (path: string): string => keys.find((k) => k.path === path)?.pem ?? '';
    const fileOf = (signer: SignerConfig | undefined): string =>
      signer?.privateKeyFile ? resolve(signer.privateKeyFile) : '';
    const v3Out = { ...out.v3 };
    if (v3Out.platform)
      v3Out.platform = { ...v3Out.platform, privateKeyFile: fileOf(v3?.platform), privateKeyPem: pem('v3.platform') };
    if (v3Out.platformCertificate) {
      v3Out.platformCertificate = {
        ...v3Out.platformCertificate,
        privateKeyFile: fileOf(v3?.platformCertificate),
        privateKeyPem: pem('v3.platformCertificate'),
      };
    }
    out.v3 = v3Out;
  }
  resolved.set(input, out);
  return out;
}

function signerPem(signer: SignerConfig | undefined, path: string, problems: ConfigProblem[]): string {
  if (typeof signer !== 'object' || signer === null) return '';
  const pem = signer.privateKeyPem;
  if (pem === undefined || pem === '') {
    if (!signer.privateKeyFile) {
      problems.push({
        path: `${path}.privateKeyPem`,
        message:
          "is required: the PEM text of the simulated signer's private key (e.g. generateTestKeys().publicKey.privateKeyPem), or privateKeyFile",
      });
      return '';
    }
    // The loader config files use: the same bounds, the same messages.
    const keyPath = resolve(signer.privateKeyFile);
    const read = readPrivateKey(keyPath, keyPath);
    if ('problem' in read) {
      problems.push({ path: `${path}.privateKeyFile`, message: read.problem });
      return '';
    }
    return read.pem;
  }
  const problem = checkPrivateKeyPem(pem);
  if (problem) problems.push({ path: `${path}.privateKeyPem`, message: problem });
  return pem;
}
