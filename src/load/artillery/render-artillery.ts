import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import { UserError } from '../../shared/errors.js';
import type { ResolvedConfig } from '../../config/types.js';
import type { OutputFile } from '../../output/write-atomic.js';
import { renderHookModule, type NotifierConfig } from '../hook-module.js';
import { defaultMix, notifierConfig, parseMix } from '../mix.js';
import { ARTILLERY_GLUE } from './processor-glue.js';

/**
 * `generate --format artillery`: a scenario (YAML) and a processor that Artillery 2's own CLI runs
 * unchanged, on this machine (`artillery run`) and on its distributed runners (`run-fargate`,
 * `run-lambda`, `run-aci`). The processor is ONE CommonJS file that requires only Node's built-in
 * modules: the hook module `load` runs in autocannon's workers (the sandbox builders and judge) plus
 * Artillery glue. Artillery bundles a processor with the local files it requires and installs the
 * npm packages it requires (artillery 2.0.21, lib/platform/aws-ecs/legacy/bom.js,
 * getCustomJsDependencies: builtins are skipped with node:module isBuiltin), so nothing beside the
 * file needs shipping. Keys never go into either file: the processor reads them from the
 * environment, which `--dotenv <name>.artillery.env` fills on every runner (docs/artillery.md).
 */

/** The environment variables the processor reads its secrets from. */
export const ARTILLERY_SECRET_ENV = {
  v2ApiKey: 'WXPAY_V2_API_KEY',
  v3ApiKey: 'WXPAY_V3_API_KEY',
  platform: 'WXPAY_PLATFORM_PRIVATE_KEY',
  certificate: 'WXPAY_CERTIFICATE_PRIVATE_KEY',
} as const;

export interface ArtilleryPaths {
  scenario: string;
  processor: string;
  env: string;
}

export function artilleryPaths(name: string, outDir: string): ArtilleryPaths {
  return {
    scenario: join(outDir, `${name}.artillery.yml`),
    processor: join(outDir, `${name}.artillery-processor.cjs`),
    env: join(outDir, `${name}.artillery.env`),
  };
}

/** What the processor embeds: the notifier's config without its secrets or run code. */
export type ArtilleryNotifierConfig = Omit<NotifierConfig, 'secrets' | 'runCode'> & {
  /** Which secrets the mix needs, and the signers' serials (not secret). */
  needs: {
    v2ApiKey: boolean;
    v3ApiKey: boolean;
    signers: Partial<Record<'platform' | 'certificate', { serial: string }>>;
  };
};

function publicPart(config: NotifierConfig): ArtilleryNotifierConfig {
  const { secrets, runCode: _runCode, ...rest } = config;
  void _runCode;
  const versions = new Set(config.mix.map((m) => m.version));
  return {
    ...rest,
    needs: {
      v2ApiKey: versions.has('v2'),
      v3ApiKey: versions.has('v3'),
      signers: Object.fromEntries(
        Object.entries(secrets.signers)
          .filter(([, s]) => s !== undefined)
          .map(([name, s]) => [name, { serial: s!.serial }]),
      ),
    },
  };
}

/**
 * Load shapes. Artillery applies `--environment` with lodash's merge, which merges arrays index by
 * index (artillery 2.0.21, lib/util.js, checkConfig), so every environment lists the same phases
 * with the same keys as the default, or the default's values would leak into it. (`--overrides`
 * replaces arrays whole: that is the way to any other shape; docs/artillery.md.)
 */
const PHASES = {
  default: [
    { name: 'ramp-up', duration: 10, arrivalRate: 5, rampTo: 50 },
    { name: 'sustained', duration: 60, arrivalRate: 50 },
  ],
  smoke: [
    { name: 'ramp-up', duration: 2, arrivalRate: 1, rampTo: 5 },
    { name: 'sustained', duration: 5, arrivalRate: 5 },
  ],
  'sale-day': [
    { name: 'ramp-up', duration: 60, arrivalRate: 10, rampTo: 300 },
    { name: 'sustained', duration: 300, arrivalRate: 300 },
  ],
};

/** Requests as WeChat sends them: no redirects followed, no Accept-Encoding added. */
const REQUEST = { url: '/', followRedirect: false, gzip: false };
/** A repeat of the notification: re-signed (v3) by the processor, judged like the first. */
const COPY = { beforeRequest: 'wxpaySignRepeat', afterResponse: 'wxpayJudge' };

export function renderScenario(config: ResolvedConfig, notifier: NotifierConfig, paths: ArtilleryPaths): string {
  const origins = [...new Set(notifier.mix.map((m) => new URL(m.url).origin))];
  const doc = {
    config: {
      target: origins[0],
      phases: PHASES.default,
      environments: { smoke: { phases: PHASES.smoke }, 'sale-day': { phases: PHASES['sale-day'] } },
      processor: `./${basename(paths.processor)}`,
      // Seconds. WeChat waits 5 s; the judge counts a later answer as too slow, and a longer timeout
      // lets the report show how slow.
      // pool: one set of keep-alive connections for every virtual user, without a cap. Artillery's
      // default gives each virtual user one connection (maxSockets 1, lib/engine_http.js of
      // @artilleryio/int-core 2.16), on which the copy WeChat sends at the same instant would wait
      // for the first delivery's answer instead of racing it.
      http: { timeout: 10, pool: 65536 },
    },
    scenarios: [
      {
        name: `WeChat Pay notifications (${config.name})`,
        flow: [
          // One distinct notification per virtual user; the processor also picks whether WeChat
          // repeats it, at the same instant (the parallel copy) or after the first answer.
          { function: 'wxpayPrepare' },
          {
            parallel: [
              { post: { ...REQUEST, beforeRequest: 'wxpaySend', afterResponse: 'wxpayJudge' } },
              { post: { ...REQUEST, ifTrue: 'wxpayRepeatTogether', ...COPY } },
            ],
          },
          { post: { ...REQUEST, ifTrue: 'wxpayRepeatLater', ...COPY } },
        ],
      },
    ],
  };
  const env = basename(paths.env);
  const scenario = basename(paths.scenario);
  return [
    `# WeChat Pay notification load for Artillery 2, generated by \`wxpay-notify generate --format artillery\`.`,
    `# Regenerate instead of editing; choose the load with Artillery's own flags (docs/artillery.md).`,
    `# Each virtual user sends one distinct notification, signed in ${basename(paths.processor)} (wxpayPrepare),`,
    `# and for a share WeChat's repeat of it, at the same instant or after the first answer; every answer`,
    `# is judged there by run's rules (afterResponse: wxpay.* counters and histograms).`,
    `#`,
    `#   npx artillery run --dotenv ${env} ${scenario}`,
    `#   npx artillery run --dotenv ${env} --environment smoke ${scenario}        (7 s, up to 5/s)`,
    `#   npx artillery run --dotenv ${env} --environment sale-day ${scenario}     (6 min, up to 300/s)`,
    `#   npx artillery run --dotenv ${env} --target https://staging.example.com ${scenario}`,
    `#   npx artillery run --dotenv ${env} --overrides '{"config":{"phases":[{"duration":30,"arrivalRate":100}]}}' ${scenario}`,
    `#   npx artillery run-fargate --region eu-west-1 --count 4 --dotenv ${env} ${scenario}`,
    '',
    stringify(doc, { lineWidth: 0 }),
  ].join('\n');
}

export function renderProcessor(notifier: NotifierConfig): string {
  return [
    '// wxpay-notify: the Artillery processor of a WeChat Pay notification load, generated by',
    '// `wxpay-notify generate --format artillery`. Self-contained: it requires only Node built-ins, so',
    '// Artillery ships it as it is to run-fargate, run-lambda and run-aci. Holds no secret: the keys come',
    `// from the environment (${Object.values(ARTILLERY_SECRET_ENV).join(', ')}).`,
    "'use strict';",
    // The hook module in its own scope, as if required: its module.exports becomes WXPAY.
    'const WXPAY = (function () {',
    '  const module = { exports: {} };',
    renderHookModule(),
    '  return module.exports;',
    '})();',
    `const WXPAY_CONFIG = ${JSON.stringify(publicPart(notifier))};`,
    `const WXPAY_SECRET_ENV = ${JSON.stringify(ARTILLERY_SECRET_ENV)};`,
    ARTILLERY_GLUE,
    '',
  ].join('\n');
}

/** The dotenv file `--dotenv` reads: the secrets, one line each (PEM newlines as \n in quotes). */
export function renderEnvFile(notifier: NotifierConfig, withSecrets: boolean): string {
  const value = (v: string | undefined): string => {
    if (!withSecrets || !v) return '""';
    // dotenv reads "…" with \n as a newline and nothing else escaped: refuse what it would misread.
    if (!/^[\x20-\x7e\n]*$/.test(v) || /["\\]/.test(v))
      throw new UserError(
        'a key holds a quote, a backslash or a non-ASCII character, which a dotenv file cannot carry; use --no-secrets and set the WXPAY_* variables yourself',
      );
    return `"${v.replace(/\n/g, '\\n')}"`;
  };
  const lines = ['# Secrets of the wxpay-notify Artillery processor (TEST keys): keep out of version control.'];
  if (notifier.mix.some((m) => m.version === 'v2'))
    lines.push(`${ARTILLERY_SECRET_ENV.v2ApiKey}=${value(notifier.secrets.v2ApiKey)}`);
  if (notifier.mix.some((m) => m.version === 'v3'))
    lines.push(`${ARTILLERY_SECRET_ENV.v3ApiKey}=${value(notifier.secrets.v3ApiKey)}`);
  for (const name of ['platform', 'certificate'] as const) {
    const signer = notifier.secrets.signers[name];
    if (signer) lines.push(`${ARTILLERY_SECRET_ENV[name]}=${value(signer.privateKeyPem)}`);
  }
  return lines.join('\n') + '\n';
}

/** The three files of `generate --format artillery`. */
export function generateArtilleryFiles(
  config: ResolvedConfig,
  outDir: string,
  withSecrets: boolean,
  mix?: string,
): OutputFile[] {
  const notifier = notifierConfig(config, mix === undefined ? defaultMix(config) : parseMix(mix));
  const paths = artilleryPaths(config.name, outDir);
  return [
    { path: paths.scenario, content: renderScenario(config, notifier, paths) },
    { path: paths.processor, content: renderProcessor(notifier) },
    // Like the Postman environment: owner-only, since it holds the test keys.
    { path: paths.env, content: renderEnvFile(notifier, withSecrets), mode: 0o600 },
  ];
}
