import type { Cause } from '../judge/causes.js';

/** What `lint-url` says about one rule: an error blocks callbacks, a warning may. */
export type FindingLevel = 'error' | 'warning' | 'ok';

export interface Finding {
  level: FindingLevel;
  /** Stable id of the rule, e.g. `query`, `private-host`, `dns`, `probe`. */
  rule: string;
  /** What was found and how to fix it. */
  message: string;
}

/** A doctor check: a finding, or a step that could not run (skipped steps are not counted). */
export interface DoctorCheck extends Omit<Finding, 'level'> {
  level: FindingLevel | 'skipped';
  /** How long a network step took, in ms. */
  timeMs?: number;
  /** The failure cause in the hint catalogue (judge/causes.ts), when one fits. */
  cause?: Cause;
}

/** The checks about one notify URL (or the config, or the URLs taken together). */
export interface DoctorGroup {
  title: string;
  /** The URL exactly as written (whitespace included), when the group is about one URL. */
  url?: string;
  /** Config field the URL came from, e.g. `v3.notifyUrl`. */
  field?: string;
  checks: DoctorCheck[];
}

export interface DoctorReport {
  command: 'doctor' | 'lint-url';
  /** The config file, for `doctor`. */
  config?: string;
  groups: DoctorGroup[];
  /** Where the network checks ran; absent when none ran. */
  ranFrom?: { hostname: string };
  /** Closing advice (where the check ran from, what to do next). */
  note?: string;
}

export interface DoctorTotals {
  passed: number;
  warnings: number;
  failed: number;
  skipped: number;
}
