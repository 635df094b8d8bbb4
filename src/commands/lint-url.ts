import { UserError, type ExitCode } from '../shared/errors.js';
import { lintNotifyUrl } from '../doctor/lint-url.js';
import type { DoctorReport } from '../doctor/types.js';
import { outputDoctorReport } from './doctor-output.js';
import type { CommandIO } from '../shared/command-io.js';

export interface LintUrlArgs {
  url: string;
  allowPrivate: boolean;
  format: 'table' | 'json';
}

export async function lintUrlCommand(args: LintUrlArgs, io: CommandIO): Promise<ExitCode> {
  if (typeof args.url !== 'string') {
    throw new UserError(
      'give the notify_url to check, e.g. `wxpay-notify lint-url https://shop.example.com/wxpay/notify`',
    );
  }
  const report: DoctorReport = {
    command: 'lint-url',
    groups: [
      { title: 'notify_url', url: args.url, checks: lintNotifyUrl(args.url, { allowPrivate: args.allowPrivate }) },
    ],
    note: 'Rules only (no network). `wxpay-notify doctor -c <config>` also checks DNS, TLS and what the handler answers.',
  };
  return outputDoctorReport(report, args.format, io);
}
