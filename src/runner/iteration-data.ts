import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import { UserError } from '../shared/errors.js';
import { validateOrder } from '../config/validate-config.js';
import type { OrderConfig } from '../config/types.js';
import { redact } from '../shared/redact.js';
import { inert } from '../shared/inert-text.js';
import { decodeUtf8 } from '../shared/utf8-text.js';

/**
 * `run --data`: a CSV with a header row, or a JSON array of objects; each row is one order, sent
 * once per case. A data file comes from outside, so it is bounded (DATA_BOUNDS, read without ever
 * holding more than the bound) and every row is checked by the config's own order rules
 * (validateOrder: formats, amounts, refund ≤ total, no control characters), with a message naming
 * the row and the column. Values are taken literally: `${NAME}` in a cell is text, never an
 * environment variable. Documented for users in docs/security.md.
 */

/** The bounds of a data file; docs/security.md states them. */
export const DATA_BOUNDS = {
  /** The file, in bytes: 10,000 rows of seven fields fit many times over. */
  maxBytes: 8 * 1024 * 1024,
  /** Rows (orders); each is sent once per case, so a run of this many is already hours long. */
  maxRows: 10_000,
  /** Characters in one cell; the longest order field WeChat has (out_refund_no) holds 64. */
  maxCellChars: 1024,
} as const;

/** How many problems one error lists: enough to fix a pattern, short enough to read. */
const MAX_PROBLEMS = 20;

/** Columns a data row may override: column → the config's order field (and collection variable). */
const COLUMNS: Record<string, { field: keyof OrderConfig; variable: string }> = {
  out_trade_no: { field: 'outTradeNo', variable: 'out_trade_no' },
  outTradeNo: { field: 'outTradeNo', variable: 'out_trade_no' },
  transaction_id: { field: 'transactionId', variable: 'transaction_id' },
  transactionId: { field: 'transactionId', variable: 'transaction_id' },
  total: { field: 'total', variable: 'total' },
  openid: { field: 'openid', variable: 'openid' },
  out_refund_no: { field: 'outRefundNo', variable: 'out_refund_no' },
  outRefundNo: { field: 'outRefundNo', variable: 'out_refund_no' },
  refund_id: { field: 'refundId', variable: 'refund_id' },
  refundId: { field: 'refundId', variable: 'refund_id' },
  refund: { field: 'refund', variable: 'refund' },
};
const AMOUNTS = new Set<keyof OrderConfig>(['total', 'refund']);

/** What rows are checked against: the config's order (the fields a row leaves out) and its secrets. */
export interface DataContext {
  order?: OrderConfig;
  secrets?: readonly string[];
}

class DataProblems {
  readonly list: string[] = [];
  constructor(private readonly source: string) {}
  add(where: string, message: string): void {
    this.list.push(`${this.source}: ${where}${message}`);
    if (this.list.length >= MAX_PROBLEMS) this.throw();
  }
  throw(): never {
    const more =
      this.list.length >= MAX_PROBLEMS
        ? `\n${this.source}: stopped after ${MAX_PROBLEMS} problems; fix these and run again`
        : '';
    throw new UserError(this.list.join('\n') + more, 'E_DATA');
  }
}

/**
 * Minimal RFC 4180 CSV, one row at a time: quoted fields, doubled quotes, CRLF or LF; blank lines
 * skipped. A cell longer than `maxCellChars` ends the parse (`onLongCell`), so one huge cell never
 * costs more than the bound.
 */
export function* csvRows(
  text: string,
  maxCellChars: number = DATA_BOUNDS.maxCellChars,
  onLongCell?: (row: number, column: number) => never,
): Generator<string[]> {
  const long =
    onLongCell ??
    ((r: number, c: number): never => {
      throw new UserError(`row ${r}, column ${c}: a cell is longer than ${maxCellChars} characters`, 'E_DATA');
    });
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let rowNumber = 0;
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
      if (row.some((f) => f !== '')) {
        yield row;
        rowNumber++;
      }
      row = [];
    } else field += ch;
    if (field.length > maxCellChars) long(rowNumber, row.length + 1);
  }
  row.push(field);
  if (row.some((f) => f !== '')) yield row;
}

/** All rows of a CSV text (tests and small inputs). */
export function parseCsv(text: string): string[][] {
  return [...csvRows(text, Infinity)];
}

/**
 * Pure: checks rows (objects of column → value) and maps them to the collection variables they
 * override. Every row is an order: the config's order with the row's columns over it, checked by
 * the config's rules.
 */
export function toIterationData(
  rows: Iterable<Record<string, unknown>>,
  source: string,
  context: DataContext = {},
): Record<string, string>[] {
  const problems = new DataProblems(inert(source));
  const data: Record<string, string>[] = [];
  let index = 0;
  for (const row of rows) {
    index += 1;
    if (index > DATA_BOUNDS.maxRows) {
      problems.add(
        '',
        `more than ${DATA_BOUNDS.maxRows.toLocaleString('en-US')} rows; split the file (each row is sent once per case)`,
      );
      break;
    }
    const out = checkRow(row, index, problems, context);
    if (out) data.push(out);
  }
  if (index === 0) problems.add('', 'no data rows');
  if (problems.list.length > 0) problems.throw();
  return data;
}

function checkRow(
  row: Record<string, unknown>,
  index: number,
  problems: DataProblems,
  context: DataContext,
): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const columnOf: Partial<Record<keyof OrderConfig, string>> = {};
  const given: Record<string, unknown> = {};
  const where = (column?: string): string =>
    `row ${index}${column === undefined ? '' : `, column ${JSON.stringify(inert(column.slice(0, 40)))}`}: `;
  const before = problems.list.length;
  for (const [column, value] of Object.entries(row)) {
    const target = Object.hasOwn(COLUMNS, column) ? COLUMNS[column] : undefined;
    if (!target) {
      problems.add(
        where(column),
        `unknown column; allowed: ${Object.keys(COLUMNS)
          .filter((c) => !/[A-Z]/.test(c))
          .join(', ')}`,
      );
      continue;
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      problems.add(
        where(column),
        `expected a string or a number, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
      );
      continue;
    }
    if (typeof value === 'string' && value.length > DATA_BOUNDS.maxCellChars) {
      problems.add(
        where(column),
        `the value is ${value.length} characters, more than the ${DATA_BOUNDS.maxCellChars} a cell may hold`,
      );
      continue;
    }
    // Cells are trimmed ("T1, 100" is common in hand-written CSV); what is checked is what is sent.
    const text = String(value).trim();
    if (context.secrets && context.secrets.length > 0 && redact(text, context.secrets) !== text) {
      problems.add(
        where(column),
        'holds a secret of this config (an API key or a private key); a key never goes into a notification: remove it',
      );
      continue;
    }
    out[target.variable] = text;
    columnOf[target.field] = column;
    given[target.field] = AMOUNTS.has(target.field) && /^-?\d+(?:\.\d+)?$/.test(text) ? Number(text) : text;
  }
  if (problems.list.length > before) return undefined;
  const base = { ...(context.order ?? {}) } as Record<string, unknown>;
  const { problems: found } = validateOrder({ ...base, ...given }, context.secrets ?? []);
  for (const problem of found) {
    const field = problem.path as keyof OrderConfig;
    const column = columnOf[field];
    // A rule about a field the row left out (refund over the row's total) says where its value came from.
    const origin =
      column === undefined && context.order
        ? ` (${problem.path} comes from the config's order.${problem.path}: add a ${snake(problem.path)} column)`
        : '';
    problems.add(where(column ?? snake(problem.path)), `${problem.message}${origin}`);
  }
  return found.length > 0 ? undefined : out;
}

const snake = (field: string): string => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Reads --data: a CSV with a header row, or a JSON array of objects, within DATA_BOUNDS. */
export function readIterationData(file: string, context: DataContext = {}): Record<string, string>[] {
  const shown = inert(file);
  const text = readDataText(file, shown);
  if (extname(file).toLowerCase() === '.json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      // V8's message may quote the file's text: keep only where it failed.
      const at = /position (\d+)/.exec((error as Error).message)?.[1];
      throw new UserError(
        `--data ${shown} is not valid JSON${at ? ` (at character ${at})` : ''}; expected an array of objects, one per notification`,
        'E_DATA',
      );
    }
    if (!Array.isArray(parsed) || parsed.some((r) => !r || typeof r !== 'object' || Array.isArray(r))) {
      throw new UserError(`--data ${shown} must be a JSON array of objects, one per notification`, 'E_DATA');
    }
    return toIterationData(parsed as Record<string, unknown>[], file, context);
  }
  const long = (row: number, column: number): never => {
    throw new UserError(
      `--data ${shown}: ${row === 0 ? 'the header row' : `row ${row}`}, column ${column}: a cell is longer than ${DATA_BOUNDS.maxCellChars} characters, the bound for a data cell`,
      'E_DATA',
    );
  };
  const rows = csvRows(text, DATA_BOUNDS.maxCellChars, long);
  const header = rows.next();
  if (header.done)
    throw new UserError(`--data ${shown} is empty; expected a header row such as out_trade_no,total`, 'E_DATA');
  const names = header.value.map((h) => h.trim());
  return toIterationData(
    (function* () {
      for (const r of rows) yield Object.fromEntries(names.map((h, i) => [h, r[i] ?? '']));
    })(),
    file,
    context,
  );
}

/**
 * The file's text: a regular file (a device such as /dev/zero, a FIFO or a folder is refused before
 * a byte is read), at most DATA_BOUNDS.maxBytes (counted while reading: /proc files report size 0),
 * valid UTF-8.
 */
function readDataText(file: string, shown: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new UserError(
      `cannot read --data ${shown}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      'E_DATA',
    );
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) {
      const kind = info.isDirectory()
        ? 'a folder'
        : info.isCharacterDevice() || info.isBlockDevice()
          ? 'a device'
          : info.isFIFO()
            ? 'a pipe'
            : 'not a regular file';
      throw new UserError(
        `--data ${shown} is ${kind}, not a data file; save the rows to a .csv or .json file and pass its path`,
        'E_DATA',
      );
    }
    const tooBig = (): never => {
      throw new UserError(
        `--data ${shown} is larger than ${DATA_BOUNDS.maxBytes / 1024 / 1024} MB, the bound for a data file (at most ${DATA_BOUNDS.maxRows.toLocaleString('en-US')} rows); split it into several runs`,
        'E_DATA',
      );
    };
    if (info.size > DATA_BOUNDS.maxBytes) tooBig();
    const buffer = Buffer.alloc(Math.min(DATA_BOUNDS.maxBytes + 1, Math.max(info.size + 1, 64 * 1024)));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > DATA_BOUNDS.maxBytes) tooBig();
        return growAndRead(fd, buffer, length, shown, tooBig);
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > DATA_BOUNDS.maxBytes) tooBig();
    return decoded(buffer.subarray(0, length), shown);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(
      `cannot read --data ${shown}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      'E_DATA',
    );
  } finally {
    closeSync(fd);
  }
}

/** A file that grew past its reported size (a /proc file): read on, up to the bound. */
function growAndRead(fd: number, start: Buffer, length: number, shown: string, tooBig: () => never): string {
  const buffer = Buffer.alloc(DATA_BOUNDS.maxBytes + 1);
  start.copy(buffer, 0, 0, length);
  for (;;) {
    if (length > DATA_BOUNDS.maxBytes) tooBig();
    const n = readSync(fd, buffer, length, buffer.length - length, null);
    if (n === 0) return decoded(buffer.subarray(0, length), shown);
    length += n;
  }
}

function decoded(bytes: Buffer, shown: string): string {
  const result = decodeUtf8(bytes);
  if ('invalidAt' in result) {
    throw new UserError(
      `--data ${shown} is not valid UTF-8: the byte at offset ${result.invalidAt} is not part of a UTF-8 character; save the file as UTF-8`,
      'E_DATA',
    );
  }
  return result.text;
}
