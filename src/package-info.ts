import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './paths.js';

/** Our own package.json, read from the package root (never the host project's). */
const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};

export const PACKAGE_NAME = manifest.name;
export const PACKAGE_VERSION = manifest.version;
