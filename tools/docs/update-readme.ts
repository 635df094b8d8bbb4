import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { updateCaseTable } from '../../src/cases/render-case-table.js';
import { updateConfigTable } from '../../src/config/render-config-table.js';
import { renderStacksDoc } from '../../src/judge/render-stacks-doc.js';
import { updateReadmeExamples } from './readme-examples.js';

// `npm run docs`: rewrite the generated parts of the README and the manual in docs/: the case
// table from the catalogue, the config table from the config contract, the code examples from
// examples/, docs/stacks.md from the stack fingerprints (tests keep them equal).
const GENERATED_PAGES: Readonly<Record<string, (text: string) => string>> = {
  'README.md': (text) => updateReadmeExamples(text, PACKAGE_ROOT),
  'docs/cases.md': updateCaseTable,
  'docs/config.md': updateConfigTable,
  'docs/library.md': (text) => updateReadmeExamples(text, PACKAGE_ROOT),
  'docs/stacks.md': () => renderStacksDoc(),
};

for (const [page, update] of Object.entries(GENERATED_PAGES)) {
  const file = join(PACKAGE_ROOT, page);
  writeFileSync(file, update(readFileSync(file, 'utf8')));
  process.stdout.write(`${page} updated\n`);
}
