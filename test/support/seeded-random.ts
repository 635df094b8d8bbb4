import { randomInt } from 'node:crypto';
import { expect, onTestFailed } from 'vitest';

/**
 * Randomised tests draw from one seed per run: WXPAY_TEST_SEED when it is set, a fresh one otherwise,
 * so every run explores new input and any failure replays. A failing test prints the seed and the
 * command that replays it.
 */
export const TEST_SEED = seedFromEnvironment(process.env.WXPAY_TEST_SEED);

function seedFromEnvironment(value: string | undefined): number {
  if (value === undefined || value === '') return randomInt(2 ** 32);
  if (!/^\d+$/.test(value) || Number(value) >= 2 ** 32)
    throw new Error(`WXPAY_TEST_SEED must be an integer from 0 to ${2 ** 32 - 1}, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** mulberry32: small, fast and good enough to pick test input. Values in [0, 1), like Math.random. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a: each test gets its own stream, so a test draws the same input alone (-t) as in the whole run. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export interface SeededRandom {
  /** A float in [0, 1), for code that takes a Math.random-like function. */
  (): number;
  /** An integer in [0, max). */
  int(max: number): number;
  /** One of `items`. */
  pick<T>(items: readonly T[]): T;
}

/**
 * The random source for the test that calls it (call it inside the test): derived from TEST_SEED and
 * the test's name; if the test fails, the seed is printed.
 */
export function seededRandom(): SeededRandom {
  const { currentTestName } = expect.getState();
  if (currentTestName === undefined)
    throw new Error('seededRandom() is called inside a test: the seed is printed when that test fails');
  printSeedOnFailure();
  return seededStream(currentTestName);
}

/**
 * A named random stream from TEST_SEED, for input drawn before the tests that judge it (one shared
 * run in a beforeAll, say): each of those tests calls printSeedOnFailure(). The same name draws the
 * same input for the same seed.
 */
export function seededStream(name: string): SeededRandom {
  const next = mulberry32(fnv1a(`${TEST_SEED}:${name}`));
  const random = (() => next()) as SeededRandom;
  random.int = (max) => Math.floor(next() * max);
  random.pick = (items) => items[Math.floor(next() * items.length)]!;
  return random;
}

/** Prints the seed and the command that replays it if the test that calls this fails. */
export function printSeedOnFailure(): void {
  const { currentTestName, testPath } = expect.getState();
  if (currentTestName === undefined) throw new Error('printSeedOnFailure() is called inside a test');
  onTestFailed(() => {
    const file = testPath ? ` ${testPath.replace(`${process.cwd()}/`, '')}` : '';
    console.error(
      `"${currentTestName}" drew its random input from WXPAY_TEST_SEED=${TEST_SEED}; replay: WXPAY_TEST_SEED=${TEST_SEED} npx vitest run${file}`,
    );
  });
}
