import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';
import { updateCaseTable } from '../cases/render-case-table.js';
import { updateConfigTable } from '../config/render-config-table.js';
import { updateReadmeExamples } from './readme-examples.js';
import { renderStacksDoc } from '../judge/render-stacks-doc.js';

// `npm run readme`: rewrite the README's case table from the catalogue, its config table from the
// config contract and its examples from examples/ (tests keep them equal); docs/stacks.md from the
// stack fingerprints.
const file = join(PACKAGE_ROOT, 'README.md');
writeFileSync(file, updateReadmeExamples(updateConfigTable(updateCaseTable(readFileSync(file, 'utf8'))), PACKAGE_ROOT));
writeFileSync(join(PACKAGE_ROOT, 'docs', 'stacks.md'), renderStacksDoc());
process.stdout.write('README.md case table, config table and examples updated; docs/stacks.md regenerated\n');
