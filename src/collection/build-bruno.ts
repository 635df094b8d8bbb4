import { join } from 'node:path';
import sdk from 'postman-collection';
import type { OutputFile } from '../output/write-atomic.js';
import { CASE_HEADER, type CaseSpec } from '../cases/case-header.js';
import { REQUEST_TIMEOUT_MS, brunoScripts } from './sandbox-scripts.js';
import { inertJson } from './inert-json.js';

/**
 * A native Bruno collection (a folder of .bru files) made from the generated Postman collection,
 * so every case, header, body and folder flows through unchanged; only the collection scripts are
 * swapped for their Bruno builds (same signer and judge, Bruno glue). Bruno's file format:
 * https://docs.usebruno.com/bru-lang/overview
 */

export interface BrunoPaths {
  /** The collection folder (open it in Bruno, or `bru run` inside it). */
  collectionDir: string;
  /** The environment, outside the collection folder because it holds the secrets. */
  environment: string;
}

export function brunoPaths(name: string, outDir: string): BrunoPaths {
  return { collectionDir: join(outDir, `${name}.bruno`), environment: join(outDir, `${name}.bruno_environment.json`) };
}

/** A .bru text block: every line indented two spaces (Bruno strips them); blank lines stay blank. */
function textBlock(name: string, text: string): string {
  const body = text
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => (line === '' ? '' : `  ${line}`));
  return `${name} {\n${body.join('\n')}\n}\n`;
}

/** A .bru dictionary block: `key: value` lines; `~` marks a disabled entry. */
function dictBlock(name: string, entries: readonly { key: string; value: string; disabled?: boolean }[]): string {
  const lines = entries.map((e) => {
    if (/[\r\n]/.test(e.value) || /[\r\n:]/.test(e.key))
      throw new Error(`cannot write ${name} entry "${e.key}" on one .bru line`);
    return `  ${e.disabled ? '~' : ''}${e.key}: ${e.value}`.trimEnd();
  });
  return `${name} {\n${lines.join('\n')}\n}\n`;
}

/** Folder and file names Windows, macOS and Linux all accept. */
function fileName(name: string): string {
  return name
    .replace(/[\\/:*?"<>|]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
}

function caseSpecOf(request: sdk.Request): CaseSpec | undefined {
  const header = request.headers.all().find((h) => h.key.toLowerCase() === CASE_HEADER.toLowerCase());
  return header ? (JSON.parse(header.value) as CaseSpec) : undefined;
}

function requestFile(item: sdk.Item, seq: number): { name: string; content: string } {
  const request = item.request;
  const spec = caseSpecOf(request);
  const language = (request.body as any)?.options?.raw?.language as string | undefined;
  const mode = language === 'json' || language === 'xml' ? language : 'text';
  const description = request.description;
  const docs = typeof description === 'string' ? description : (description?.content ?? '');
  const behavior = (item as any).protocolProfileBehavior as { followRedirects?: boolean } | undefined;
  const blocks = [
    dictBlock('meta', [
      { key: 'name', value: item.name },
      { key: 'type', value: 'http' },
      { key: 'seq', value: String(seq) },
    ]),
    dictBlock(request.method.toLowerCase(), [
      { key: 'url', value: request.url.toString() },
      { key: 'body', value: mode },
      { key: 'auth', value: 'none' },
    ]),
    dictBlock(
      'headers',
      request.headers.all().map((h) => ({ key: h.key, value: h.value, disabled: h.disabled })),
    ),
    textBlock(`body:${mode}`, request.body?.raw ?? ''),
    dictBlock('settings', [
      { key: 'encodeUrl', value: 'false' },
      // WeChat does not follow redirects, so a redirect must reach the judge as an answer.
      { key: 'followRedirects', value: String(behavior?.followRedirects ?? true) },
      { key: 'timeout', value: String(REQUEST_TIMEOUT_MS) },
    ]),
    ...(docs ? [textBlock('docs', docs)] : []),
  ];
  const base = spec ? `${spec.id}${(spec.copies ?? 1) > 1 ? `-${spec.copy}` : ''}` : item.name;
  return { name: `${fileName(base)}.bru`, content: blocks.join('\n') };
}

/**
 * The collection folder's files: bruno.json, collection.bru (variables, scripts, description) and
 * one folder per Postman folder with a folder.bru and one .bru per request, in Postman's order.
 */
export function buildBrunoCollection(postmanCollection: Record<string, unknown>, collectionDir: string): OutputFile[] {
  const collection = new sdk.Collection(postmanCollection as sdk.CollectionDefinition);
  const scripts = brunoScripts();
  const description = collection.description;
  const docs = typeof description === 'string' ? description : (description?.content ?? '');
  const files: OutputFile[] = [
    {
      path: join(collectionDir, 'bruno.json'),
      content:
        JSON.stringify(
          { version: '1', name: collection.name, type: 'collection', ignore: ['node_modules', '.git'] },
          null,
          2,
        ) + '\n',
    },
    {
      path: join(collectionDir, 'collection.bru'),
      content: [
        // One JSON line holds every value faithfully: a .bru value is trimmed, one starting with
        // ''' is read as a text block, and Bruno resolves {{…}} inside values it reads.
        dictBlock('vars:pre-request', [
          {
            key: 'wxpay_values',
            value: inertJson(
              Object.fromEntries(collection.variables.all().map((v) => [v.key!, String(v.value ?? '')])),
            ),
          },
        ]),
        textBlock('script:pre-request', scripts.prerequest),
        textBlock('tests', scripts.test),
        ...(docs ? [textBlock('docs', docs)] : []),
      ].join('\n'),
    },
  ];
  const folderNames = new Set<string>();
  collection.items.all().forEach((folder, folderIndex) => {
    if (!sdk.ItemGroup.isItemGroup(folder))
      throw new Error(`Bruno output expects every request in a folder; "${folder.name}" is not one`);
    const dir = fileName(folder.name);
    if (folderNames.has(dir)) throw new Error(`two folders would be written as "${dir}"`);
    folderNames.add(dir);
    files.push({
      path: join(collectionDir, dir, 'folder.bru'),
      content: dictBlock('meta', [
        { key: 'name', value: folder.name },
        { key: 'seq', value: String(folderIndex + 1) },
      ]),
    });
    const requestNames = new Set<string>();
    (folder as sdk.ItemGroup<sdk.Item>).items.all().forEach((item, index) => {
      const file = requestFile(item as sdk.Item, index + 1);
      if (requestNames.has(file.name))
        throw new Error(`two requests in "${folder.name}" would be written as "${file.name}"`);
      requestNames.add(file.name);
      files.push({ path: join(collectionDir, dir, file.name), content: file.content });
    });
  });
  return files;
}

/**
 * The environment as Bruno's CLI reads it (`bru run --env-file`): the Postman environment's values,
 * secrets marked secret, and a PEM on one line with \n escapes (the glue turns them back).
 */
export function buildBrunoEnvironment(postmanEnvironment: {
  name: string;
  values: { key: string; value: string; type?: string }[];
}): Record<string, unknown> {
  return {
    name: postmanEnvironment.name,
    variables: postmanEnvironment.values.map((v) => ({
      name: v.key,
      value: v.value.replace(/\r?\n/g, '\\n'),
      enabled: true,
      secret: v.type === 'secret',
      type: 'text',
    })),
  };
}
