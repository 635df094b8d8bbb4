/**
 * Re-indenting of request and answer bodies for the HTML report, so a reader can scan them. Only
 * layout changes, never the tokens; the report also shows the exact bytes below the pretty copy.
 */

/** Re-indents JSON token by token: unlike JSON.parse + stringify it keeps big numbers, escapes and key order. */
export function indentJson(text: string): string {
  let out = '';
  let depth = 0;
  const newline = (): string => '\n' + '  '.repeat(depth);
  const empty = /[ \t\r\n]*([}\]])/y;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (ch === '{' || ch === '[') {
      empty.lastIndex = i + 1;
      const close = empty.exec(text);
      if (close) {
        out += ch + close[1];
        i = empty.lastIndex - 1;
      } else {
        depth++;
        out += ch + newline();
      }
    } else if (ch === '}' || ch === ']') {
      depth--;
      out += newline() + ch;
    } else if (ch === ',') out += ',' + newline();
    else if (ch === ':') out += ': ';
    else if (!' \t\r\n'.includes(ch)) out += ch;
  }
  return out;
}

const XML_TOKEN = /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<[^<>]*>|[^<]+/g;
const tagName = (tag: string): string => /^<\/?([^\s/>]+)/.exec(tag)?.[1] ?? '';
const isText = (token: string | undefined): boolean =>
  token !== undefined && (!token.startsWith('<') || token.startsWith('<![CDATA['));

/** One element per line, leaves (text or CDATA only) kept whole; undefined when it is not well-formed XML. */
export function indentXml(text: string): string | undefined {
  const tokens = text.trim().match(XML_TOKEN) ?? [];
  if (tokens.join('') !== text.trim()) return undefined;
  const lines: string[] = [];
  const open: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const pad = '  '.repeat(open.length);
    if (token.startsWith('</')) {
      if (open.pop() !== tagName(token)) return undefined;
      lines.push('  '.repeat(open.length) + token);
    } else if (token.startsWith('<?') || token.startsWith('<!--') || token.endsWith('/>')) {
      lines.push(pad + token);
    } else if (token.startsWith('<') && !token.startsWith('<![CDATA[')) {
      let j = i + 1;
      while (isText(tokens[j])) j++;
      const close = tokens[j];
      if (close?.startsWith('</') && tagName(close) === tagName(token)) {
        lines.push(pad + tokens.slice(i, j + 1).join(''));
        i = j;
      } else {
        open.push(tagName(token));
        lines.push(pad + token);
      }
    } else if (token.trim() !== '') lines.push(pad + token.trim());
  }
  return open.length === 0 ? lines.join('\n') : undefined;
}

export function prettyBody(body: string, contentType: string): { kind: string; text: string } | undefined {
  const trimmed = body.trim();
  if (/json/i.test(contentType) || /^[{[]/.test(trimmed)) {
    try {
      JSON.parse(trimmed);
      return { kind: 'JSON', text: indentJson(trimmed) };
    } catch {
      return undefined;
    }
  }
  // Only real XML: an HTML error page also starts with '<' but is shown as sent.
  if (/xml/i.test(contentType) || /^<(\?xml|xml[\s>])/.test(trimmed)) {
    const text = indentXml(trimmed);
    return text === undefined ? undefined : { kind: 'XML', text };
  }
  return undefined;
}
