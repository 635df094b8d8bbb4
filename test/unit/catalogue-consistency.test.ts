import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/cases/catalogue.js';
import { HINTS } from '../../src/judge/causes.js';
import { renderCaseTable } from '../../src/cases/render-case-table.js';
import { CASE_HEADER } from '../../src/cases/case-header.js';
import { PACKAGE_ROOT, SANDBOX_DIR, TEMPLATES_DIR } from '../../src/paths.js';

/** One source of truth per fact: the catalogue, the templates, the collection and docs/cases.md agree. */
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
}
const templates = walk(TEMPLATES_DIR)
  .map((f) => relative(TEMPLATES_DIR, f))
  .filter((f) => /\.(xml|json)$/.test(f));
const example = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'collections/example.postman_collection.json'), 'utf8'));
const exampleEnv = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'collections/example.postman_environment.json'), 'utf8'));

describe('case catalogue consistency', () => {
  it('ids are unique and shaped version.group.name', () => {
    const ids = CATALOGUE.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^v[23]\.[a-z]+\.[a-z0-9-]+$/);
  });

  it('every case names a template that exists, and every template is used', () => {
    const used = new Set(CATALOGUE.map((c) => c.template));
    for (const t of used) expect(templates).toContain(t);
    for (const t of templates) expect(used.has(t.replace('/partner/', '/')), `${t} is used by a case`).toBe(true);
  });

  it("every {{variable}} in a template is defined by the collection, the environment, a case's order numbers or the send-time script", () => {
    const caseOrders = example.item
      .flatMap((folder: { item: { request: { header: { key: string; value: string }[] } }[] }) => folder.item)
      .flatMap((item: { request: { header: { key: string; value: string }[] } }) =>
        Object.keys(JSON.parse(item.request.header.find((h) => h.key === CASE_HEADER)!.value).order ?? {}),
      );
    const defined = new Set([
      ...example.variable.map((v: { key: string }) => v.key),
      ...exampleEnv.values.map((v: { key: string }) => v.key),
      ...caseOrders,
      'sp_appid',
      'sp_mchid',
      'sub_appid',
      'sub_mchid',
      'sub_openid',
    ]);
    const prerequest = ['prerequest.js', 'lib/notify-time.js', 'lib/notify-amounts.js']
      .map((f) => readFileSync(join(SANDBOX_DIR, f), 'utf8'))
      .join('\n');
    for (const t of templates) {
      for (const [, name] of readFileSync(join(TEMPLATES_DIR, t), 'utf8').matchAll(/\{\{(\w+)\}\}/g)) {
        const ok = defined.has(name!) || (name!.startsWith('wxpay_') && prerequest.includes(name!));
        expect(ok, `${t}: {{${name}}}`).toBe(true);
      }
    }
  });

  it('the example collection holds exactly the catalogue cases its config selects, each with its case header', () => {
    const items = example.item.flatMap((folder: { item: unknown[] }) => folder.item) as {
      name: string;
      request: { header: { key: string; value: string; disabled?: boolean }[] };
    }[];
    const specs = items.map((i) =>
      JSON.parse(i.request.header.find((h) => h.key === CASE_HEADER && h.disabled)!.value),
    );
    const expected = CATALOGUE.flatMap((c) => Array.from({ length: c.copies ?? 1 }, () => c.id));
    expect(specs.map((s) => s.id)).toEqual(expected);
    for (const [i, item] of items.entries()) expect(item.name.startsWith(specs[i].id)).toBe(true);
  });

  it('the case table of docs/cases.md is the catalogue', () => {
    expect(readFileSync(join(PACKAGE_ROOT, 'docs', 'cases.md'), 'utf8')).toContain(renderCaseTable());
  });

  it('every cause the judge can report has a hint in the catalogue', () => {
    const judge = readFileSync(join(SANDBOX_DIR, 'lib/judge.js'), 'utf8');
    const causes = new Set(
      [...judge.matchAll(/cause: '([a-z0-9-]+)'/g), ...judge.matchAll(/return '([a-z0-9-]+)';/g)].map((m) => m[1]!),
    );
    causes.delete('ok');
    expect(causes.size).toBeGreaterThan(8);
    for (const cause of causes) expect(Object.keys(HINTS), cause).toContain(cause);
  });
});
