import { jsonNestedDeeperThan, MAX_JSON_DEPTH } from '../receiver/v3-steps.js';
import { quoteInert } from './inert-text.js';
import type { SentRecord } from './sent-record.js';

/** What a lookup said about one notification, read liberally (docs/load-lookup.md). */
export interface LookupAnswer {
  recorded: boolean;
  /** Why it counts as not recorded (HTTP 404, status NOTPAY…), for the finding. */
  how: string;
  /** The answer could not be read: a finding of its own, the record is not judged. */
  problem?: string;
  /** Amounts in fen (分) as recorded, when the answer gives them. */
  total?: number;
  refund?: number;
  timesProcessed?: number;
  timesHow?: string;
}

type Row = Record<string, unknown>;

/**
 * Field names a typical handler already stores, in the order they are tried: WeChat's own names
 * (v3 amount.total, v2 total_fee) first, then the usual column and camelCase spellings.
 */
const TOTAL_FIELDS = [
  'amount.total',
  'total_fee',
  'totalFee',
  'total',
  'total_amount',
  'totalAmount',
  'amount_total',
  'amount',
];
const REFUND_FIELDS = [
  'amount.refund',
  'refund_fee',
  'refundFee',
  'refund',
  'refund_amount',
  'refundAmount',
  'amount_refund',
];
const TIMES_FIELDS = [
  'times_processed',
  'timesProcessed',
  'processed_times',
  'process_count',
  'processed_count',
  'processedCount',
];
const FLAG_FIELDS = ['recorded', 'paid', 'processed', 'found'];
const STATUS_FIELDS = [
  'trade_state',
  'tradeState',
  'refund_status',
  'refundStatus',
  'pay_status',
  'payStatus',
  'status',
  'state',
];
const REFUND_LISTS = ['refunds', 'refund_list', 'refundList'];
const ORDER_IDS = ['out_trade_no', 'outTradeNo'];
const REFUND_IDS = ['out_refund_no', 'outRefundNo'];
const WECHAT_REFUND_IDS = ['refund_id', 'refundId'];
/** Statuses a row has before the notification arrives (or when it never took effect). Lower case. */
const NOT_DONE = new Set([
  'notpay',
  'not_paid',
  'unpaid',
  'pending',
  'created',
  'new',
  'waiting',
  'init',
  'initial',
  'userpaying',
  'processing',
  'closed',
  'cancelled',
  'canceled',
  'revoked',
  'payerror',
  'failed',
]);

function field(row: Row, path: string): unknown {
  let value: unknown = row;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Row)[part];
  }
  return value;
}

function first(row: Row, names: string[]): { name: string; value: unknown } | undefined {
  for (const name of names) {
    const value = field(row, name);
    // `amount` is an amount only as a number or text; as an object it holds total/refund.
    if (value !== undefined && value !== null && !(typeof value === 'object')) return { name, value };
  }
  return undefined;
}

/** A whole number of fen, or a problem: an amount with a decimal point is most likely yuan (元). */
function readFen(found: { name: string; value: unknown }): number | string {
  const { name, value } = found;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value.trim())) return Number(value.trim());
  return `${name} is ${quoteInert(String(value), 40)}, not a whole number of fen (分); WeChat's amounts are in fen (1.00 元 = 100)`;
}

function readCount(found: { name: string; value: unknown }): number | string {
  const n =
    typeof found.value === 'number'
      ? found.value
      : typeof found.value === 'string' && /^\d{1,9}$/.test(found.value.trim())
        ? Number(found.value.trim())
        : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : `${found.name} is ${quoteInert(String(found.value), 40)}, not a count`;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;

/** Parses a whole answer as JSON, or (commands) as one JSON value per line: a row per line. */
function parseRows(
  body: string,
  rowsAllowed: boolean,
  source: string,
): { rows: unknown[]; how: string } | { problem: string } {
  const trimmed = body.trim();
  if (trimmed === '') {
    return rowsAllowed
      ? { rows: [], how: 'the command printed nothing' }
      : { problem: `${source}: answered 200 with an empty body; answer the record as JSON, or 404 when there is none` };
  }
  if (jsonNestedDeeperThan(trimmed, MAX_JSON_DEPTH))
    return {
      problem: `${source}: answer is JSON nested more than ${MAX_JSON_DEPTH} levels deep; answer the order's fields`,
    };
  const notJson = (what: string): { problem: string } => ({
    problem: `${source}: ${what} is not JSON (it starts ${quoteInert(trimmed, 60)}); answer e.g. {"out_trade_no": …, "amount": {"total": …}}`,
  });
  try {
    const value = JSON.parse(trimmed) as unknown;
    if (value === null) return { rows: [], how: 'answered null' };
    return { rows: Array.isArray(value) ? value : [value], how: Array.isArray(value) ? 'no rows' : '' };
  } catch {
    if (!rowsAllowed) return notJson('the answer');
  }
  const rows: unknown[] = [];
  for (const line of trimmed.split('\n')) {
    if (line.trim() === '') continue;
    try {
      rows.push(JSON.parse(line) as unknown);
    } catch {
      return notJson('a line of the output');
    }
  }
  return { rows, how: '' };
}

/** Reads one lookup answer for one record. Pure: no I/O, nothing from the answer is executed. */
export function readLookupAnswer(
  body: string,
  record: SentRecord,
  opts: { rowsAllowed: boolean; source: string },
): LookupAnswer {
  const { source } = opts;
  const problem = (text: string): LookupAnswer => ({ recorded: false, how: '', problem: text });
  const parsed = parseRows(body, opts.rowsAllowed, source);
  if ('problem' in parsed) return problem(parsed.problem);
  let rows = parsed.rows.filter((r) => r !== null);
  if (rows.some((r) => typeof r !== 'object' || Array.isArray(r)))
    return problem(
      `${source}: answer is not a JSON object (or rows of objects); answer e.g. {"out_trade_no": …, "amount": {"total": …}}`,
    );
  if (rows.length === 0) return { recorded: false, how: parsed.how || 'no rows' };

  // Identity: an answer about another order means the template points at the wrong thing.
  const orderNo = first(rows[0] as Row, ORDER_IDS);
  if (orderNo && text(orderNo.value) !== record.outTradeNo) {
    return problem(
      `${source}: answered for ${orderNo.name} ${quoteInert(String(orderNo.value), 64)}, not ${record.outTradeNo}; check the template's placeholder`,
    );
  }

  if (record.kind === 'refund') {
    const list = REFUND_LISTS.map((name) => ({ name, value: (rows[0] as Row)[name] })).find(
      (l) => l.value !== undefined,
    );
    if (list) {
      if (!Array.isArray(list.value)) return problem(`${source}: ${list.name} is not a list`);
      const mine = list.value.filter((r): r is Row => {
        if (typeof r !== 'object' || r === null) return false;
        const no = first(r as Row, REFUND_IDS);
        const id = first(r as Row, WECHAT_REFUND_IDS);
        return (
          (no !== undefined && text(no.value) === record.outRefundNo) ||
          (no === undefined && id !== undefined && text(id.value) === record.refundId)
        );
      });
      if (mine.length === 0) return { recorded: false, how: `not among the order's ${list.value.length} ${list.name}` };
      rows = mine;
    } else {
      const row = rows[0] as Row;
      const no = first(row, REFUND_IDS);
      if (no && text(no.value) !== record.outRefundNo) {
        return problem(
          `${source}: answered for ${no.name} ${quoteInert(String(no.value), 64)}, not ${record.outRefundNo ?? '?'}; check the template's placeholder`,
        );
      }
      if (!no && !first(row, WECHAT_REFUND_IDS) && !first(row, REFUND_FIELDS)) {
        return problem(
          `${source}: the answer shows no refund (no refunds list, out_refund_no or refund amount); for refund notifications the lookup must show the refund`,
        );
      }
    }
  }

  const row = rows[0] as Row;
  for (const name of FLAG_FIELDS) {
    if (row[name] === false) return { recorded: false, how: `${name}: false` };
  }
  const status = first(row, STATUS_FIELDS);
  if (status && typeof status.value === 'string' && NOT_DONE.has(status.value.trim().toLowerCase())) {
    return { recorded: false, how: `${status.name} ${quoteInert(status.value, 40)}` };
  }

  const answer: LookupAnswer = { recorded: true, how: '' };
  const times = first(row, TIMES_FIELDS);
  if (times) {
    const n = readCount(times);
    if (typeof n === 'string') return problem(`${source}: ${n}`);
    if (n === 0) return { recorded: false, how: `${times.name}: 0` };
    answer.timesProcessed = n;
    answer.timesHow = `${times.name}: ${n}`;
  }
  if (rows.length > 1 && rows.length > (answer.timesProcessed ?? 0)) {
    answer.timesProcessed = rows.length;
    answer.timesHow = `${rows.length} rows`;
  }
  const total = first(row, TOTAL_FIELDS);
  if (total) {
    const n = readFen(total);
    if (typeof n === 'string') return problem(`${source}: ${n}`);
    answer.total = n;
  }
  if (record.kind === 'refund') {
    const refund = first(row, REFUND_FIELDS);
    if (refund) {
      const n = readFen(refund);
      if (typeof n === 'string') return problem(`${source}: ${n}`);
      answer.refund = n;
    }
  }
  return answer;
}
