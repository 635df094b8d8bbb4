import { CONFIG } from './contract.js';
import { TEXT_DEFS } from './rules.js';
import type { Field, JsonSchema, Section } from './spec.js';

/**
 * src/config/schema.json, from the contract: the JSON Schema editors complete and check a config
 * with. `npm run schema` writes it; a test keeps the committed file equal to this.
 */
export function renderSchema(contract: Section = CONFIG): JsonSchema {
  const { description, ...root } = sectionSchema(contract);
  const rules = crossFieldRules(contract, []);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'wxpay-notify config',
    // Standard JSON Schema 2020-12 only (no ajv $data): editors such as VS Code read it as it is.
    description:
      rules.length > 0
        ? `${String(description)} Checked by wxpay-notify only, as a JSON Schema cannot compare two values: ${rules.join('; ')}.`
        : description,
    ...root,
    $defs: TEXT_DEFS,
  };
}

/** The text of schema.json: two-space JSON, with lists of plain values on one line. */
export function renderSchemaText(contract: Section = CONFIG): string {
  // A JSON string holds no raw line break, so `[` + line break only starts an array.
  const text = JSON.stringify(renderSchema(contract), null, 2).replace(
    /\[\n\s*([^[\]{}]*?)\n\s*\]/g,
    (_all, items: string) => `[${items.split(/,\n\s*/).join(', ')}]`,
  );
  return `${text}\n`;
}

/** The rules across fields the schema cannot state, with their sections' paths (`order.refund ≤ order.total`). */
export function crossFieldRules(spec: Section, path: readonly string[]): string[] {
  return Object.entries(spec.fields).flatMap(([key, field]) => {
    if (field.kind === 'section') return crossFieldRules(field, [...path, key]);
    const rule = field.rule.crossField;
    const at = (name: string): string => [...path, name].join('.');
    return rule === undefined ? [] : [`${at(key)} ${rule.relation} ${at(rule.sibling)}`];
  });
}

function fieldSchema(field: Field): JsonSchema {
  if (field.kind === 'section') return sectionSchema(field);
  return {
    description: field.description,
    ...field.rule.schema,
    ...(field.default === undefined ? {} : { default: field.default }),
    ...(field.examples ? { examples: field.examples } : {}),
  };
}

function sectionSchema(spec: Section): JsonSchema {
  const entries = Object.entries(spec.fields);
  const required = entries.filter(([, field]) => field.required).map(([key]) => key);
  const needs = Object.fromEntries(
    entries.flatMap(([key, field]) => (field.kind === 'section' && field.needs ? [[key, [field.needs.field]]] : [])),
  );
  const comparisons = entries.flatMap(([key, field]) =>
    field.kind === 'leaf' && field.rule.sectionSchema ? [field.rule.sectionSchema(key)] : [],
  );
  return {
    description: spec.description,
    type: 'object',
    additionalProperties: false,
    ...(required.length > 0 ? { required } : {}),
    ...(spec.atLeastOne ? { anyOf: spec.atLeastOne.fields.map((name) => ({ required: [name] })) } : {}),
    ...(Object.keys(needs).length > 0 ? { dependentRequired: needs } : {}),
    ...(comparisons.length > 0 ? { allOf: comparisons } : {}),
    properties: Object.fromEntries(entries.map(([key, field]) => [key, fieldSchema(field)])),
  };
}
