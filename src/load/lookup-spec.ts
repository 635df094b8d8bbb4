import { basename } from 'node:path';
import { UserError } from '../shared/errors.js';
import type { SentRecord } from './sent-record.js';

/**
 * How reconciliation asks the merchant what was recorded (docs/load-lookup.md): a URL template,
 * or a command template run WITHOUT a shell. Both name the notification with placeholders.
 */
export interface LookupSpec {
  /** e.g. `http://127.0.0.1:8080/orders/{out_trade_no}`; values are percent-encoded. */
  url?: string;
  /**
   * e.g. `psql -At -v id={out_trade_no} -f lookup.sql`: split into arguments once, like a shell
   * would split it, then each value is put INTO its argument (never parsed again) and into the
   * environment (WXPAY_OUT_TRADE_NO …). No shell runs it.
   */
  command?: string;
}

/** The placeholders a template may use, and the environment variables a command also gets. */
export const lookupPlaceholders = {
  out_trade_no: 'WXPAY_OUT_TRADE_NO',
  transaction_id: 'WXPAY_TRANSACTION_ID',
  out_refund_no: 'WXPAY_OUT_REFUND_NO',
  refund_id: 'WXPAY_REFUND_ID',
  kind: 'WXPAY_KIND',
  version: 'WXPAY_VERSION',
} as const;
type Placeholder = keyof typeof lookupPlaceholders;
const ID_PLACEHOLDERS: Placeholder[] = ['out_trade_no', 'transaction_id', 'out_refund_no', 'refund_id'];

export type CheckedLookup = { kind: 'url'; template: string } | { kind: 'command'; argv: string[] };

const PLACEHOLDER = /\{([A-Za-z_]+)\}/g;

function values(record: SentRecord): Record<Placeholder, string> {
  return {
    out_trade_no: record.outTradeNo,
    transaction_id: record.transactionId,
    out_refund_no: record.outRefundNo ?? '',
    refund_id: record.refundId ?? '',
    kind: record.kind,
    version: record.version,
  };
}

function checkPlaceholders(text: string, field: string): void {
  const used = [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  const unknown = used.find((name) => !(name in lookupPlaceholders));
  if (unknown)
    throw new UserError(
      `${field}: unknown placeholder {${unknown}}; use ${Object.keys(lookupPlaceholders)
        .map((p) => `{${p}}`)
        .join(', ')}`,
    );
}

const SHELLS = new Set([
  'sh',
  'bash',
  'dash',
  'zsh',
  'ksh',
  'ash',
  'fish',
  'csh',
  'tcsh',
  'busybox',
  'cmd',
  'cmd.exe',
  'powershell',
  'powershell.exe',
  'pwsh',
]);

/**
 * Splits a command template into arguments as a POSIX shell splits words: blanks separate,
 * '…' is literal, "…" allows \" and \\, a backslash outside quotes escapes the next character.
 * Everything a shell would do beyond that (pipes, redirects, $expansion, `…`) is refused, since no
 * shell runs the command: the user would otherwise get a silently different command.
 */
export function splitCommand(template: string, field = '--lookup-command'): string[] {
  const argv: string[] = [];
  // undefined between words; '' is an empty quoted word ('' or "") and is kept.
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word = (word ?? '') + ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && (template[i + 1] === '"' || template[i + 1] === '\\'))
        word = (word ?? '') + template[++i]!;
      else word = (word ?? '') + ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= '';
    } else if (ch === '\\') {
      if (i + 1 >= template.length) throw new UserError(`${field}: ends with a lone backslash`);
      word = (word ?? '') + template[++i]!;
    } else if (/\s/.test(ch)) {
      if (word !== undefined) argv.push(word);
      word = undefined;
    } else if ('|&;<>()$`'.includes(ch)) {
      throw new UserError(
        `${field}: ${JSON.stringify(ch)} outside quotes is shell syntax, and the lookup command runs without a shell; quote it, or put the pipeline in a script and read the values from $WXPAY_OUT_TRADE_NO…`,
      );
    } else word = (word ?? '') + ch;
  }
  if (quote) throw new UserError(`${field}: a ${quote === "'" ? 'single' : 'double'} quote is not closed`);
  if (word !== undefined) argv.push(word);
  return argv;
}

/** Checks a lookup once, before anything is sent: a mistake is a usage error naming the field. */
export function checkLookupSpec(spec: LookupSpec): CheckedLookup {
  const given = [spec.url, spec.command].filter((v) => v !== undefined && v !== '');
  if (given.length !== 1)
    throw new UserError(
      'a lookup is either a URL template (--lookup) or a command template (--lookup-command): give exactly one',
    );
  if (spec.url) {
    const field = '--lookup';
    if (!/^https?:\/\//i.test(spec.url))
      throw new UserError(
        `${field}: must start with http:// or https://, e.g. http://127.0.0.1:8080/orders/{out_trade_no}`,
      );
    checkPlaceholders(spec.url, field);
    if (!ID_PLACEHOLDERS.some((p) => spec.url!.includes(`{${p}}`)))
      throw new UserError(
        `${field}: name the order with a placeholder such as {out_trade_no}, or every lookup asks the same thing`,
      );
    try {
      new URL(spec.url.replace(PLACEHOLDER, 'X'));
    } catch {
      throw new UserError(
        `${field}: is not a URL once its placeholders are filled in; e.g. http://127.0.0.1:8080/orders/{out_trade_no}`,
      );
    }
    return { kind: 'url', template: spec.url };
  }
  const field = '--lookup-command';
  const argv = splitCommand(spec.command!, field);
  if (argv.length === 0) throw new UserError(`${field}: is empty; e.g. psql -At -v id={out_trade_no} -f lookup.sql`);
  for (const arg of argv) checkPlaceholders(arg, field);
  if (argv[0]!.includes('{')) throw new UserError(`${field}: the program (first word) cannot be a placeholder`);
  const templated = argv.some((arg) => PLACEHOLDER.test(arg));
  PLACEHOLDER.lastIndex = 0;
  const shell = argv.find((arg) => SHELLS.has(basename(arg).toLowerCase()));
  if (shell && templated) {
    throw new UserError(
      `${field}: runs ${shell}, and a placeholder in a shell script would be parsed as shell code; read the values from the environment instead ("$WXPAY_OUT_TRADE_NO", "$WXPAY_OUT_REFUND_NO"…)`,
    );
  }
  return { kind: 'command', argv };
}

/** The URL to GET for a record: each value percent-encoded into its place. */
export function lookupUrl(lookup: CheckedLookup & { kind: 'url' }, record: SentRecord): string {
  const v = values(record);
  return lookup.template.replace(PLACEHOLDER, (_m, name: string) => encodeURIComponent(v[name as Placeholder]));
}

/**
 * WeChat's own alphabet for merchant numbers (out_trade_no: digits, letters, _-|*; out_refund_no
 * adds @) plus '.': a value outside it is refused before it reaches a command, so it cannot
 * close a quote in the user's SQL or look like an option.
 */
const COMMAND_VALUE = /^(?:[0-9A-Za-z_|*@.][0-9A-Za-z_\-|*@.]{0,127})?$/;

/** A value that must not reach a command, named; undefined when all are fine. */
export function unsafeCommandValue(record: SentRecord): string | undefined {
  for (const [name, value] of Object.entries(values(record))) {
    if (!COMMAND_VALUE.test(value))
      return `${name} has characters outside WeChat's id alphabet (0-9 A-Z a-z _ - | * @ .) or starts with "-"; not passed to the lookup command`;
  }
  return undefined;
}

/** The command's arguments for a record: placeholders filled inside their own argument. */
export function lookupArgv(lookup: CheckedLookup & { kind: 'command' }, record: SentRecord): string[] {
  const v = values(record);
  return lookup.argv.map((arg) => arg.replace(PLACEHOLDER, (_m, name: string) => v[name as Placeholder]));
}

/** The same values as environment variables, for scripts. */
export function lookupEnv(record: SentRecord): Record<string, string> {
  const v = values(record);
  return Object.fromEntries(Object.entries(lookupPlaceholders).map(([name, env]) => [env, v[name as Placeholder]]));
}
