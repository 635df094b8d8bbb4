import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * docs/library.md shows files of examples/ verbatim: each between `<!-- example: PATH -->` and
 * `<!-- example-end -->`, as one fenced code block. The files are what the tests run, so the page
 * cannot drift from code that works (`npm run docs` refreshes it; a test compares).
 */
const BLOCK = /(<!-- example: ([^\s]+) -->\n)[\s\S]*?(<!-- example-end -->)/g;

const LANGUAGE: Record<string, string> = { ts: 'ts', js: 'js', json: 'json', sh: 'sh' };

/** The example files a page includes, by path relative to the package root. */
export function readmeExamplePaths(readme: string): string[] {
  return [...readme.matchAll(BLOCK)].map((m) => m[2]!);
}

/** A page's text with every example block replaced by the current file. */
export function updateReadmeExamples(readme: string, root: string): string {
  return readme.replace(BLOCK, (_all, open: string, path: string, close: string) => {
    const text = readFileSync(join(root, path), 'utf8').replace(/\n+$/, '');
    const language = LANGUAGE[path.split('.').pop() ?? ''] ?? '';
    return `${open}\`\`\`${language}\n${text}\n\`\`\`\n${close}`;
  });
}
