import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/** A relative link in a markdown file: the file it names (relative to the package root) and its anchor. */
export interface MarkdownLink {
  from: string;
  target: string;
  anchor?: string;
}

/** Markdown with fenced code blocks and HTML comments (link slots) blanked out. */
function prose(text: string): string {
  return text.replace(/<!--[\s\S]*?-->/g, '').replace(/^(```|~~~)[\s\S]*?^\1/gm, '');
}

/** The relative links of a markdown file (`from`, relative to `root`); web and mail links are left out. */
export function relativeLinks(root: string, from: string): MarkdownLink[] {
  const text = prose(readFileSync(join(root, from), 'utf8'));
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((href) => !/^[a-z][a-z0-9+.-]*:/i.test(href))
    .map((href) => {
      const [path = '', anchor] = href.split('#');
      const target = path === '' ? from : relative(root, normalize(join(root, dirname(from), decodeURI(path))));
      return anchor === undefined ? { from, target } : { from, target, anchor };
    });
}

/** GitHub's heading anchors of a markdown file: lower case, punctuation dropped, spaces as `-`, repeats numbered. */
export function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = heading!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** What is wrong with a link, or undefined when its file (and anchor, in a markdown file) exists. */
export function brokenLink(root: string, link: MarkdownLink): string | undefined {
  const file = join(root, link.target);
  if (link.target.startsWith('..') || !existsSync(file)) return `${link.from}: ${link.target} does not exist`;
  if (link.anchor === undefined || !link.target.endsWith('.md') || statSync(file).isDirectory()) return undefined;
  return headingAnchors(readFileSync(file, 'utf8')).has(link.anchor)
    ? undefined
    : `${link.from}: ${link.target} has no heading #${link.anchor}`;
}
