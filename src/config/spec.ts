import type { Checker, ValueAt } from './config-checker.js';

/**
 * The vocabulary the config contract (contract.ts) is written in. A field is a leaf (a value with a
 * rule) or a section (an object of fields). From one table of fields come the validator
 * (validate-config.ts), the JSON Schema (render-schema.ts), the docs/config.md table
 * (render-config-table.ts) and the TypeScript types of a validated config (`Resolved`, types.ts).
 */

export type JsonSchema = { readonly [keyword: string]: unknown };

/** Where a value is read: its field path, the words its field gives messages, the siblings read before it. */
export interface FieldContext extends ValueAt {
  /** The fields of the same section already read (defaults filled), for rules that compare. */
  readonly siblings: Readonly<Record<string, unknown>>;
}

/**
 * How one kind of value is checked, and the same rule as JSON Schema, side by side. The parity test
 * (test/unit/config-contract.test.ts) runs a corpus of configs through both.
 */
export interface Rule<T> {
  /** Checks a value that is present; reports each problem to the checker, returns undefined after one. */
  read(c: Checker, raw: unknown, at: FieldContext): T | undefined;
  readonly schema: JsonSchema;
  /** Keywords the rule needs on its section's schema, e.g. a bound that holds when a sibling is absent. */
  sectionSchema?(key: string): JsonSchema;
  /**
   * A comparison with a sibling that standard JSON Schema cannot state (e.g. refund ≤ total): only
   * the validator checks it; the schema lists it in its description.
   */
  readonly crossField?: { readonly relation: string; readonly sibling: string };
}

interface Doc {
  /** What the field is for: the schema's `description` and the meaning column of docs/config.md. */
  readonly description: string;
  readonly examples?: readonly unknown[];
}

export interface Leaf<T> extends Doc {
  readonly kind: 'leaf';
  readonly rule: Rule<T>;
  readonly required?: boolean;
  /** Completes "is required: …" and "must not be empty: …". */
  readonly what?: string;
  /** Marks a secret: messages name it by this label and never echo its value anywhere. */
  readonly secretLabel?: string;
  /** Filled in when the field is absent; the schema's `default`. */
  readonly default?: T;
  /** A default computed from the siblings read before it, and how docs/config.md states it. */
  readonly derive?: {
    readonly value: (siblings: Readonly<Record<string, unknown>>) => T | undefined;
    readonly note: string;
  };
  /** A default that a later stage applies (the validated config leaves the field out): docs/config.md only. */
  readonly defaultNote?: string;
  /** Checked but left out of the validated config (`$schema`). */
  readonly ignored?: boolean;
}

export interface Section<F extends Fields = Fields, X extends object = object> extends Doc {
  readonly kind: 'section';
  readonly fields: F;
  readonly required?: boolean;
  /** Absent means `{}`: every field has a default. */
  readonly defaulted?: boolean;
  /** At least one of these fields must be present; reported at `path` with `message`. */
  readonly atLeastOne?: { readonly fields: readonly string[]; readonly path: string; readonly message: string };
  /** A field of the parent this section needs, and the message when it is absent. */
  readonly needs?: { readonly field: string; readonly message: string };
  /** Values the validated section carries beyond its fields (filled in by a later stage). */
  readonly adds?: X;
}

export type Field = Leaf<unknown> | Section;
export type Fields = { readonly [name: string]: Field };

export function leaf<T, const O extends Omit<Leaf<T>, 'kind' | 'rule'>>(
  rule: Rule<T>,
  options: O,
): Leaf<T> & O & { readonly kind: 'leaf' } {
  return { kind: 'leaf', rule, ...options };
}

export function section<const F extends Fields, const O extends Omit<Section<F>, 'kind' | 'fields'>>(
  fields: F,
  options: O,
): Section<F, O extends { adds: infer X extends object } ? X : object> & O & { readonly kind: 'section' } {
  return { kind: 'section', fields, ...options } as Section<
    F,
    O extends { adds: infer X extends object } ? X : object
  > &
    O & { readonly kind: 'section' };
}

type Simplify<T> = { -readonly [K in keyof T]: T[K] } & {};
/** Present in a validated config whenever its section is: required, or given a default. */
type AlwaysThere<F> = F extends { required: true } | { default: unknown } | { derive: unknown } | { defaulted: true }
  ? true
  : false;
type Kept<G, There extends boolean> = {
  [K in keyof G]: G[K] extends { ignored: true } ? never : AlwaysThere<G[K]> extends There ? K : never;
}[keyof G];

/** The TypeScript type of a field's value in a validated config. */
export type Resolved<F> =
  F extends Section<infer G, infer X>
    ? Simplify<{ [K in Kept<G, true>]: Resolved<G[K]> } & { [K in Kept<G, false>]?: Resolved<G[K]> } & X>
    : F extends Leaf<infer T>
      ? T
      : never;

/** A field a config must give: required by the contract (a default or a derived value does not count). */
type Given<G, Must extends boolean> = {
  [K in keyof G]: (G[K] extends { required: true } ? true : false) extends Must ? K : never;
}[keyof G];

/**
 * The TypeScript type of a field as a user writes it, before defaults are filled in: what the
 * library accepts in code for what wxpay-notify.json holds. Values a later stage adds are left out.
 */
export type Written<F> =
  F extends Section<infer G>
    ? Simplify<{ [K in Given<G, true>]: Written<G[K]> } & { [K in Given<G, false>]?: Written<G[K]> }>
    : F extends Leaf<infer T>
      ? T
      : never;

/** Every leaf under a section, depth first, with its path. */
export function leaves(spec: Section, path: readonly string[] = []): { path: string[]; leaf: Leaf<unknown> }[] {
  return Object.entries(spec.fields).flatMap(([key, field]) =>
    field.kind === 'leaf' ? [{ path: [...path, key], leaf: field }] : leaves(field, [...path, key]),
  );
}
