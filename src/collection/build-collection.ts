import sdk from 'postman-collection';
import type { ResolvedConfig } from '../config/types.js';
import type { CaseDefinition } from '../cases/types.js';
import { CALLBACK_HEADERS, CONTENT_TYPES } from '../protocol/constants.js';
import { CASE_HEADER, type CaseSpec } from '../cases/case-header.js';
import { caseSpec } from './case-spec.js';
import { sandboxScripts } from './sandbox-scripts.js';
import { inertJson } from './inert-json.js';
import { stableId } from './stable-id.js';
import { collectionVariables } from './variables.js';
import { readTemplate } from './read-template.js';

// Kept importable from here; it lives apart so the library can read templates without postman-collection.
export { readTemplate };

const { Collection } = sdk;

export const COLLECTION_SCHEMA = 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json';

function urlVariable(def: CaseDefinition): string {
  const version = def.sendTo ?? def.version;
  return `{{${version}_${def.target === 'notifyUrl' ? 'notify_url' : 'refund_notify_url'}}}`;
}

/**
 * Postman and Newman add headers WeChat never sends (Cache-Control, Postman-Token, Accept-Encoding,
 * Connection); postman-runtime drops them when the request says so, in Newman and in the app alike.
 */
export const DISABLED_SYSTEM_HEADERS = {
  'cache-control': true,
  'postman-token': true,
  'accept-encoding': true,
  connection: true,
} as const;

function describeCase(def: CaseDefinition, spec: CaseSpec): string {
  const expectation = def.expect === 'ack' ? 'a correct merchant acknowledges it' : 'a correct merchant rejects it';
  const numbers = Object.entries(spec.order ?? {})
    .map(([name, value]) => `${name} ${value}`)
    .join(', ');
  return [
    `**${def.id}**: ${def.title}.`,
    '',
    `Expected: ${expectation} (severity: ${def.severity}). The body is what the merchant sees after ` +
      (def.kind === 'refund' && def.version === 'v2'
        ? 'decrypting req_info'
        : def.version === 'v3'
          ? 'decrypting the resource'
          : 'parsing') +
      '; the collection pre-request script signs and encrypts it at send time.',
    '',
    `If it fails: ${def.hint}`,
    '',
    `Order numbers of this case: ${numbers} (set a variable of the same name in the environment to send your own).`,
    ...(def.caveat ? ['', `Thin evidence: ${def.caveat}`] : []),
  ].join('\n');
}

function caseItems(def: CaseDefinition, config: ResolvedConfig, template: string): sdk.ItemDefinition[] {
  const copies = def.copies ?? 1;
  const used = new Set([...template.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]));
  return Array.from({ length: copies }, (_, i) => {
    const copy = i + 1;
    const spec = caseSpec(def, config, copy);
    // Only the order numbers this body shows, so the case header stays readable.
    spec.order = Object.fromEntries(Object.entries(spec.order ?? {}).filter(([name]) => used.has(name)));
    return {
      id: stableId('item', def.id, String(copy)),
      name: copies > 1 ? `${def.id} #${copy}/${copies} — ${def.title}` : `${def.id} — ${def.title}`,
      request: {
        method: 'POST',
        url: urlVariable(def),
        // What WeChat's callbacks carry; the pre-request script adds the signature headers.
        header: [
          { key: 'Content-Type', value: CONTENT_TYPES[def.version] },
          ...Object.entries(CALLBACK_HEADERS).map(([key, value]) => ({ key, value })),
          { key: CASE_HEADER, value: inertJson(spec), disabled: true, description: 'wxpay-notify case (not sent)' },
        ],
        body: { mode: 'raw', raw: template, options: { raw: { language: def.version === 'v2' ? 'xml' : 'json' } } },
        description: describeCase(def, spec),
      },
      // WeChat does not follow redirects, so a redirect must reach the judge as an answer.
      protocolProfileBehavior: { followRedirects: false, disabledSystemHeaders: DISABLED_SYSTEM_HEADERS },
    } as sdk.ItemDefinition;
  });
}

/** The Postman collection (v2.1) for these cases: what users import and what `run` executes. */
export function buildCollection(config: ResolvedConfig, cases: readonly CaseDefinition[]): Record<string, unknown> {
  const scripts = sandboxScripts();
  const folders = new Map<string, CaseDefinition[]>();
  for (const def of cases) folders.set(def.folder, [...(folders.get(def.folder) ?? []), def]);
  const templates = new Map<string, string>();
  const template = (name: string): string => {
    if (!templates.has(name)) templates.set(name, readTemplate(name, config));
    return templates.get(name)!;
  };

  const collection = new Collection({
    info: {
      id: stableId('collection', config.name),
      name: `${config.name} — WeChat Pay notifications (wxpay-notify)`,
      schema: COLLECTION_SCHEMA,
      description:
        'WeChat Pay (微信支付) callback notifications, signed and encrypted at send time with TEST keys. ' +
        'Select the environment generated beside this file, then Send a request or run the collection. ' +
        'Generated by wxpay-notify; regenerate rather than edit by hand.',
    } as sdk.CollectionDefinition['info'],
    variable: collectionVariables(config).map((v) => ({
      id: v.key,
      key: v.key,
      value: v.value,
      type: 'string',
      description: v.description,
    })),
    event: [
      {
        id: stableId('event', 'prerequest'),
        listen: 'prerequest',
        script: { id: stableId('script', 'prerequest'), type: 'text/javascript', exec: scripts.prerequest.split('\n') },
      },
      {
        id: stableId('event', 'test'),
        listen: 'test',
        script: { id: stableId('script', 'test'), type: 'text/javascript', exec: scripts.test.split('\n') },
      },
    ],
    item: [...folders.entries()].map(([folder, defs]) => ({
      id: stableId('folder', folder),
      name: folder,
      item: defs.flatMap((def) => caseItems(def, config, template(def.template))),
    })),
  } as sdk.CollectionDefinition);
  return collection.toJSON() as Record<string, unknown>;
}
