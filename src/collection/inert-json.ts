/**
 * JSON that no `{{…}}` substitution can touch: braces inside strings written as \u007b and \u007d.
 * Postman resolves variables in every header of a request (disabled ones too) and Bruno in every
 * value it reads through `bru.getVar`; in this form a value holding "{{v2_api_key}}" stays that
 * text, JSON.parse gives it back exactly, and it stays one line (a .bru entry is one line).
 */
export function inertJson(value: unknown): string {
  return JSON.stringify(value).replace(/"(?:[^"\\]|\\.)*"/g, (text) =>
    text.replace(/\{/g, '\\u007b').replace(/\}/g, '\\u007d'),
  );
}
