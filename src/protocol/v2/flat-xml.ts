import { XMLParser } from 'fast-xml-parser';

/** A v2 message: one root element holding flat text fields. `cdata` remembers how each was written. */
export interface FlatXml {
  root: string;
  fields: Record<string, string>;
  cdata: Record<string, boolean>;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  cdataPropName: '#cdata',
  processEntities: true,
});

/** Parses a flat WeChat XML document; throws with a readable reason when it is not one. */
export function parseFlatXml(xml: string): FlatXml {
  const doc = parser.parse(xml, true) as Record<string, unknown>;
  const roots = Object.keys(doc).filter((k) => k !== '?xml');
  if (roots.length !== 1) throw new Error(`expected one root element, found ${roots.length}`);
  const root = roots[0]!;
  const body = doc[root];
  const fields: Record<string, string> = {};
  const cdata: Record<string, boolean> = {};
  if (body && typeof body === 'object') {
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      // Real notifications put a newline after each field: layout between elements, not a field.
      if (name === '#text') {
        if (String(value).trim() === '') continue;
        throw new Error(`text outside any field in <${root}>`);
      }
      if (Array.isArray(value)) throw new Error(`field <${name}> appears more than once`);
      if (value && typeof value === 'object') {
        const cd = (value as Record<string, unknown>)['#cdata'];
        if (Object.keys(value).some((k) => k !== '#cdata')) throw new Error(`field <${name}> is not flat text`);
        // Text holding "]]>" is written as several adjacent CDATA sections: one value.
        fields[name] = Array.isArray(cd) ? cd.join('') : String(cd ?? '');
        cdata[name] = true;
      } else {
        fields[name] = value === undefined || value === null ? '' : String(value);
        cdata[name] = false;
      }
    }
  }
  return { root, fields, cdata };
}

/** Serialises flat fields compactly, the way WeChat sends them: strings in CDATA, integers bare. */
export function buildFlatXml(
  root: string,
  fields: Readonly<Record<string, string>>,
  cdata?: Readonly<Record<string, boolean>>,
): string {
  const parts = Object.entries(fields).map(([name, value]) => {
    const wrap = cdata?.[name] ?? !/^-?\d+$/.test(value);
    // "]]>" inside a value splits it into adjacent CDATA sections, which parsers join back.
    return wrap || /[<>&]/.test(value)
      ? `<${name}><![CDATA[${value.split(']]>').join(']]]]><![CDATA[>')}]]></${name}>`
      : `<${name}>${value}</${name}>`;
  });
  return `<${root}>${parts.join('')}</${root}>`;
}
