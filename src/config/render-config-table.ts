import { CONFIG } from './contract.js';
import type { Field, Section } from './spec.js';

export const CONFIG_TABLE_START =
  '<!-- config-table:start (generated from src/config/contract.ts by `npm run docs`) -->';
export const CONFIG_TABLE_END = '<!-- config-table:end -->';

/** The field table of docs/config.md, from the contract: one row per field, depth first. */
export function renderConfigTable(contract: Section = CONFIG): string {
  const rows = fieldRows(contract, '');
  return [
    CONFIG_TABLE_START,
    'A field marked required is required when its section is there.',
    '',
    '| field | required | default | meaning |',
    '|---|---|---|---|',
    ...rows,
    CONFIG_TABLE_END,
  ].join('\n');
}

function fieldRows(spec: Section, parent: string): string[] {
  return Object.entries(spec.fields).flatMap(([key, field]) => {
    const path = parent ? `${parent}.${key}` : key;
    const row = `| \`${path}\` | ${required(spec, key, field)} | ${cell(defaultOf(field))} | ${cell(field.description)} |`;
    return field.kind === 'section' ? [row, ...fieldRows(field, path)] : [row];
  });
}

function required(spec: Section, key: string, field: Field): string {
  const group = spec.atLeastOne?.fields;
  if (group?.includes(key)) return `one of ${group.map((name) => `\`${name}\``).join(', ')}`;
  return field.required ? 'yes' : 'no';
}

function defaultOf(field: Field): string {
  if (field.kind === 'section') return field.defaulted ? 'all defaults' : '';
  if (field.default !== undefined) return `\`${JSON.stringify(field.default)}\``;
  return field.derive?.note ?? field.defaultNote ?? '';
}

/** Markdown table cell: a `|` would end the cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A docs page (docs/config.md) with its config table replaced by a fresh one. */
export function updateConfigTable(readme: string): string {
  const start = readme.indexOf(CONFIG_TABLE_START);
  const end = readme.indexOf(CONFIG_TABLE_END);
  if (start < 0 || end < start) throw new Error('this page has no config-table markers');
  return readme.slice(0, start) + renderConfigTable() + readme.slice(end + CONFIG_TABLE_END.length);
}
