import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';
import { updateCaseTable } from '../cases/render-case-table.js';

// `npm run readme`: rewrite the README's case table from the catalogue (a test keeps them equal).
const file = join(PACKAGE_ROOT, 'README.md');
writeFileSync(file, updateCaseTable(readFileSync(file, 'utf8')));
process.stdout.write('README.md case table updated\n');
