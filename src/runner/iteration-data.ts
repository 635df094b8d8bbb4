import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { UserError } from '../shared/errors.js';

/** Columns a data row may override, by collection variable name, with the config-style aliases. */
const COLUMNS: Record<string, string> = {
  out_trade_no: 'out_trade_no',
  outTradeNo: 'out_trade_no',
  transaction_id: 'transaction_id',
  transactionId: 'transaction_id',
  total: 'total',
  openid: 'openid',
  out_refund_no: 'out_refund_no',
  outRefundNo: 'out_refund_no',
  refund_id: 'refund_id',
  refundId: 'refund_id',
  refund: 'refund',
};
const AMOUNTS = new Set(['total', 'refund']);

/** Minimal RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
    } else field += ch;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  return rows;
}

/** Pure: validates rows and maps columns to the collection variables they override. */
export function toIterationData(rows: readonly Record<string, unknown>[], source: string): Record<string, string>[] {
  const problems: string[] = [];
  const data = rows.map((row, index) => {
    const out: Record<string, string> = {};
    for (const [column, value] of Object.entries(row)) {
      const variable = COLUMNS[column];
      if (!variable) {
        problems.push(
          `${source}: row ${index + 1}: unknown column "${column}"; allowed: ${Object.keys(COLUMNS)
            .filter((c) => !/[A-Z]/.test(c))
            .join(', ')}`,
        );
        continue;
      }
      const text = String(value ?? '').trim();
      if (AMOUNTS.has(variable) && !/^[1-9]\d*$/.test(text)) {
        problems.push(`${source}: row ${index + 1}: ${column} must be a positive whole number of fen (分), got "${text}"`);
      }
      out[variable] = text;
    }
    return out;
  });
  if (rows.length === 0) problems.push(`${source}: no data rows`);
  if (problems.length > 0) throw new UserError(problems.slice(0, 20).join('\n'), 'E_DATA');
  return data;
}

/** Reads --data: a CSV with a header row, or a JSON array of objects. */
export function readIterationData(file: string): Record<string, string>[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read --data ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, 'E_DATA');
  }
  if (extname(file).toLowerCase() === '.json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new UserError(`--data ${file} is not valid JSON: ${(error as Error).message}`, 'E_DATA');
    }
    if (!Array.isArray(parsed) || parsed.some((r) => !r || typeof r !== 'object' || Array.isArray(r))) {
      throw new UserError(`--data ${file} must be a JSON array of objects, one per notification`, 'E_DATA');
    }
    return toIterationData(parsed as Record<string, unknown>[], file);
  }
  const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ''));
  if (!header) throw new UserError(`--data ${file} is empty; expected a header row such as out_trade_no,total`, 'E_DATA');
  return toIterationData(
    rows.map((r) => Object.fromEntries(header.map((h, i) => [h.trim(), r[i] ?? '']))),
    file,
  );
}
