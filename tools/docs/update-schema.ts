import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { renderSchemaText } from '../../src/config/render-schema.js';

// `npm run schema`: rewrite src/config/schema.json from the config contract (a test keeps them equal).
writeFileSync(join(PACKAGE_ROOT, 'src', 'config', 'schema.json'), renderSchemaText());
process.stdout.write('src/config/schema.json updated\n');
