import { ACK_TIME_LIMIT_MS } from '../protocol/constants.js';

/**
 * What `run` puts up with from a receiver. An acknowledgement is a few hundred bytes, so a bounded
 * prefix of any answer is plenty to judge it; and WeChat gives up after 5 s, so a request that has
 * no complete answer a little after that has failed, however slowly its bytes keep coming.
 */

/** Bytes of an answer's body kept (after decompression); the rest is discarded unread. */
export const ANSWER_LIMIT_BYTES = 256 * 1024;

/** Wall-clock deadline for one request, from sending it to the last byte of its answer. */
export const REQUEST_DEADLINE_MS = ACK_TIME_LIMIT_MS + 1500;

/** Per delivery in the whole-run bound: its deadline plus time for its scripts. */
export const RUN_BOUND_PER_DELIVERY_MS = 8000;
/** Added once to the whole-run bound: start-up, and slack for a loaded machine. */
export const RUN_BOUND_SLACK_MS = 60_000;

/** The whole run's bound: every delivery may use its full deadline. */
export function runBoundMs(deliveries: number): number {
  return deliveries * RUN_BOUND_PER_DELIVERY_MS + RUN_BOUND_SLACK_MS;
}

/** The bounds in words, for `run --help` and the README. */
export function describeBounds(): string {
  return [
    `Bounds: each request has a wall-clock deadline of ${REQUEST_DEADLINE_MS / 1000} s for its whole answer (headers and body);`,
    `only the first ${ANSWER_LIMIT_BYTES / 1024} KiB of an answer's body (after decompression) are kept and judged, the rest is discarded;`,
    `the whole run is bounded at ${RUN_BOUND_PER_DELIVERY_MS / 1000} s per delivery plus ${RUN_BOUND_SLACK_MS / 1000} s.`,
  ].join(' ');
}
