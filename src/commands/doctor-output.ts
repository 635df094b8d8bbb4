import { EXIT, type ExitCode } from '../shared/errors.js';
import { doctorTotals, renderDoctorJson, renderDoctorTable } from '../doctor/render-doctor.js';
import type { DoctorReport } from '../doctor/types.js';
import type { CommandIO } from '../shared/command-io.js';

/** Prints a doctor or lint-url report; exit 1 when any check failed. */
export function outputDoctorReport(report: DoctorReport, format: 'table' | 'json', io: CommandIO): ExitCode {
  io.out(format === 'json' ? renderDoctorJson(report) : renderDoctorTable(report, { color: io.color }));
  return doctorTotals(report).failed > 0 ? EXIT.failed : EXIT.ok;
}
