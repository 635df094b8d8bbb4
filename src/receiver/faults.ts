import { Rejection } from './rejection.js';
import type { ProcessOnce } from './process-once.js';

/**
 * Deliberate faults of the reference receiver: the ones a burst reveals and one request at a time
 * does not (issue 20). Each is deterministic where it can be, so a test or the demo shows its
 * finding every time: which notifications are dropped depends only on their arrival order (and
 * the seed), the slowdown only on the measured arrival rate. Off unless set.
 */
export interface ReceiverFaults {
  /**
   * Acknowledge, then lose the record of every Nth processed notification (the Nth, 2Nth…): the
   * seed guide's "应答成功, 但回调数据丢失". Duplicates do not count; they are not processed.
   */
  dropEvery?: number;
  /** Or lose this share (0–1) of them, picked by a generator seeded with `seed` (default 1). */
  dropShare?: number;
  seed?: number;
  /**
   * Answers slow down as the arrival rate (notifications in the last second) grows: none up to half
   * of `rate`, then linearly, reaching `delayMs` (default 5,500: past WeChat's 5 s) at `rate`/s and
   * growing beyond it, as a handler whose database queue fills up does.
   */
  slowdown?: { rate: number; delayMs?: number };
  /**
   * Processing takes `windowMs` (a database write); a copy of the same notification arriving
   * meanwhile hits the unique key and gets 500 with the database's words, as a handler that checks
   * "already processed?" without a lock or conditional update does. Later copies are acknowledged.
   */
  race?: { windowMs: number };
  /** Process every copy again (no idempotency): the lookup's times_processed counts them. */
  notIdempotent?: boolean;
  /**
   * At most this many open connections; further ones are closed at once (Node's
   * `server.maxConnections`), as a worker pool or proxy limit does. Applied by `startReceiver` and
   * `serve`; a handler mounted in your own server leaves connections to that server.
   */
  maxConnections?: number;
}

/** The race fault's refusal: a 500 in the database's words. */
export class RaceRefusal extends Rejection {}

/** Default answer time of the slowdown fault at its rate: past WeChat's 5 s limit. */
export const SLOWDOWN_DEFAULT_DELAY_MS = 5_500;
/** A slowed answer never waits longer than this (a client would have given up long before). */
const SLOWDOWN_MAX_DELAY_MS = 60_000;

/** Throws a TypeError naming the first fault option that makes no sense. */
export function checkFaults(faults: ReceiverFaults): void {
  const positiveInt = (value: number | undefined, name: string): void => {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1))
      throw new TypeError(`faults.${name} must be a whole number from 1 up (got ${String(value)})`);
  };
  positiveInt(faults.dropEvery, 'dropEvery');
  positiveInt(faults.maxConnections, 'maxConnections');
  if (faults.dropShare !== undefined && !(faults.dropShare >= 0 && faults.dropShare <= 1))
    throw new TypeError(`faults.dropShare must be from 0 to 1, e.g. 0.01 for 1% (got ${String(faults.dropShare)})`);
  if (faults.dropEvery !== undefined && faults.dropShare !== undefined)
    throw new TypeError('faults.dropEvery and faults.dropShare choose the dropped records two ways: give one');
  if (faults.seed !== undefined && !Number.isInteger(faults.seed))
    throw new TypeError(`faults.seed must be a whole number (got ${String(faults.seed)})`);
  if (faults.slowdown !== undefined) {
    if (!(faults.slowdown.rate > 0 && Number.isFinite(faults.slowdown.rate)))
      throw new TypeError(
        `faults.slowdown.rate must be a rate above 0 per second (got ${String(faults.slowdown.rate)})`,
      );
    const d = faults.slowdown.delayMs;
    if (d !== undefined && !(d >= 0 && d <= SLOWDOWN_MAX_DELAY_MS))
      throw new TypeError(`faults.slowdown.delayMs must be from 0 to ${SLOWDOWN_MAX_DELAY_MS} (got ${String(d)})`);
  }
  if (
    faults.race !== undefined &&
    !(Number.isInteger(faults.race.windowMs) && faults.race.windowMs >= 1 && faults.race.windowMs <= 60_000)
  ) {
    throw new TypeError(
      `faults.race.windowMs must be a whole number of milliseconds from 1 to 60000 (got ${String(faults.race.windowMs)})`,
    );
  }
}

/** mulberry32: a small, well-known 32-bit generator; enough to pick records reproducibly. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Decides, per processed notification in arrival order, whether its record is lost. Undefined: never. */
export function createDropPicker(faults: ReceiverFaults): (() => boolean) | undefined {
  const every = faults.dropEvery;
  if (every !== undefined) {
    let n = 0;
    return () => ++n % every === 0;
  }
  const share = faults.dropShare;
  if (share !== undefined && share > 0) {
    const random = seeded(faults.seed ?? 1);
    return () => random() < share;
  }
  return undefined;
}

/** How the drop fault is described in log lines and summaries. */
export function describeDrop(faults: ReceiverFaults): string {
  return faults.dropEvery !== undefined
    ? `1 record in ${faults.dropEvery} dropped`
    : `${+((faults.dropShare ?? 0) * 100).toPrecision(6)}% of records dropped, seed ${faults.seed ?? 1}`;
}

/** The active faults in words, one phrase each (serve prints them when it starts). */
export function describeFaults(faults: ReceiverFaults): string[] {
  const said: string[] = [];
  if (faults.dropEvery !== undefined || (faults.dropShare ?? 0) > 0)
    said.push(`acknowledges, then loses the record: ${describeDrop(faults)}`);
  if (faults.slowdown)
    said.push(
      `slows down with the arrival rate: answers take ${faults.slowdown.delayMs ?? SLOWDOWN_DEFAULT_DELAY_MS} ms at ${faults.slowdown.rate}/s (none below ${faults.slowdown.rate / 2}/s)`,
    );
  if (faults.race)
    said.push(`processing takes ${faults.race.windowMs} ms and a copy arriving meanwhile gets 500 (unique key)`);
  if (faults.notIdempotent) said.push('processes every copy again (no idempotency)');
  if (faults.maxConnections !== undefined) said.push(`closes connections beyond ${faults.maxConnections} open at once`);
  return said;
}

/**
 * Counts arrivals in the last second and turns the rate into the slowdown's delay. `now` is
 * injectable so the curve can be tested without waiting.
 */
export function createSlowdown(
  slowdown: NonNullable<ReceiverFaults['slowdown']>,
  now: () => number = () => performance.now(),
): () => number {
  const arrivals: number[] = [];
  let head = 0;
  const full = slowdown.delayMs ?? SLOWDOWN_DEFAULT_DELAY_MS;
  const knee = slowdown.rate / 2;
  return () => {
    const t = now();
    arrivals.push(t);
    while (arrivals[head]! <= t - 1000) head++;
    if (head > 4096) {
      arrivals.splice(0, head); // keep the window's array from growing for ever
      head = 0;
    }
    const rate = arrivals.length - head;
    if (rate <= knee) return 0;
    return Math.min(SLOWDOWN_MAX_DELAY_MS, Math.round((full * (rate - knee)) / (slowdown.rate - knee)));
  };
}

/**
 * process-once without a lock: the first copy is processed for `windowMs`; a copy arriving in
 * that window fails on the "unique key" with a 500 that quotes the database, as MySQL's driver
 * error does when a handler passes it on. Copies after the window are duplicates, acknowledged.
 */
export function createRacyProcessOnce(windowMs: number): ProcessOnce {
  const done = new Set<string>();
  const inFlight = new Set<string>();
  return async (id, work) => {
    if (!id) {
      await work();
      return { duplicate: false };
    }
    if (done.has(id)) return { duplicate: true };
    if (inFlight.has(id)) throw new RaceRefusal(500, `Duplicate entry '${id}' for key 'uniq_notify_id'`);
    inFlight.add(id);
    try {
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      await work();
      done.add(id);
    } finally {
      inFlight.delete(id);
    }
    return { duplicate: false };
  };
}

/** No idempotency at all: every copy is processed again. */
export const processEveryCopy: ProcessOnce = async (_id, work) => {
  await work();
  return { duplicate: false };
};
