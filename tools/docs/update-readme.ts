import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { updateCaseTable } from '../../src/cases/render-case-table.js';
import { updateConfigTable } from '../../src/config/render-config-table.js';
import { updateReadmeExamples } from './readme-examples.js';

// `npm run readme`: rewrite the README's case table from the catalogue, its config table from the
// config contract and its examples from examples/ (tests keep them equal).
const file = join(PACKAGE_ROOT, 'README.md');
writeFileSync(file, updateReadmeExamples(updateConfigTable(updateCaseTable(readFileSync(file, 'utf8'))), PACKAGE_ROOT));
process.stdout.write('README.md case table, config table and examples updated\n');
