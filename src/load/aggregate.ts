import * as hdr from 'hdr-histogram-js';
import { ACK_TIME_LIMIT_MS } from '../protocol/constants.js';

/** One delivery as the hooks report it (src/load/runtime/autocannon-hooks.cjs, finishDelivery). */
export interface DeliveryRecord {
  version: 'v2' | 'v3';
  kind: 'pay' | 'refund';
  outTradeNo: string;
  /** 1: the notification; 2: WeChat's duplicate copy. */
  copy: number;
  /** 1: first attempt; 2…: WeChat's retries. */
  attempt: number;
  concurrent: boolean;
  intendedAt: number;
  sentAt: number;
  answeredAt: number;
  /** From the intended send time (no coordinated omission). */
  latencyMs: number;
  /** From the actual send: what the 5 s rule judges. */
  serviceMs: number;
  /** Time the generator spent building and signing this delivery. */
  signMs: number;
  /** 0: no answer. */
  status: number;
  cause: string;
  acknowledged: boolean;
  /** The judge's message for a failure (secrets masked), cut short. */
  answer?: string;
  /** The answer itself (lower-case headers, the body's first 16 KB), for the first few failures of each cause. */
  evidence?: { headers: Record<string, string>; body: string };
}

/** A second of the run (by send time): what went out, what came back, how fast. */
export interface SecondBucket {
  second: number;
  sent: number;
  acknowledged: number;
  failed: number;
  timeouts: number;
  connectionErrors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface CauseSummary {
  cause: string;
  count: number;
  /** Up to five orders that failed this way, with what came back for the first deliveries. */
  examples: {
    outTradeNo: string;
    status: number;
    copy: number;
    attempt: number;
    answer?: string;
    evidence?: DeliveryRecord['evidence'];
    stack?: string;
  }[];
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  /** Answers slower than WeChat's 5 s limit (from the intended send time). */
  overLimit: number;
}

export interface AggregateSnapshot {
  sent: number;
  acknowledged: number;
  failed: number;
  timeouts: number;
  connectionErrors: number;
  duplicatesSent: number;
  concurrentSent: number;
  retriesSent: number;
  latencyMs: LatencySummary;
  serviceMs: LatencySummary;
  /** What building and signing one delivery took (ms). */
  generatorMs: { p50: number; p99: number; max: number };
  causes: CauseSummary[];
  perSecond: SecondBucket[];
  /** Latency histogram: upper bound of each bucket (ms) and how many answers fell in it. */
  histogram: { upToMs: number; count: number }[];
}

const CONNECTION_CAUSES = new Set(['conn-refused', 'conn-reset', 'bad-http', 'transport', 'stopped']);
/** Latencies above this are recorded at it: an hour is far past anything WeChat waits for. */
const HIGHEST_MS = 3_600_000;

function histogram(digits: number): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_MS,
    numberOfSignificantValueDigits: digits as 1 | 2 | 3,
  });
}

function record(h: hdr.Histogram, ms: number): void {
  h.recordValue(Math.min(HIGHEST_MS, Math.max(1, Math.round(ms))));
}

interface Bucket {
  sent: number;
  acknowledged: number;
  failed: number;
  timeouts: number;
  connectionErrors: number;
  latency: hdr.Histogram;
}

/**
 * Folds delivery records into HDR histograms and per-second buckets as they stream in: memory grows
 * with the run's length in seconds and the number of distinct causes, never with the deliveries.
 */
export class LoadAggregate {
  private readonly latency = histogram(3);
  private readonly service = histogram(3);
  private readonly generator = histogram(3);
  private readonly buckets = new Map<number, Bucket>();
  private readonly causes = new Map<string, CauseSummary>();
  private sent = 0;
  private acknowledged = 0;
  private timeouts = 0;
  private connectionErrors = 0;
  private duplicates = 0;
  private concurrent = 0;
  private retries = 0;

  constructor(private readonly startMs: number) {}

  add(d: DeliveryRecord): void {
    this.sent++;
    if (d.copy > 1) this.duplicates++;
    if (d.concurrent) this.concurrent++;
    if (d.attempt > 1) this.retries++;
    const second = Math.max(0, Math.floor((d.sentAt - this.startMs) / 1000));
    let b = this.buckets.get(second);
    if (!b) {
      b = { sent: 0, acknowledged: 0, failed: 0, timeouts: 0, connectionErrors: 0, latency: histogram(2) };
      this.buckets.set(second, b);
    }
    b.sent++;
    record(this.generator, d.signMs);
    const answered = d.status > 0;
    if (answered || d.cause === 'timeout') {
      record(this.latency, d.latencyMs);
      record(this.service, d.serviceMs);
      record(b.latency, d.latencyMs);
    }
    if (d.acknowledged) {
      this.acknowledged++;
      b.acknowledged++;
      return;
    }
    b.failed++;
    if (d.cause === 'timeout') {
      this.timeouts++;
      b.timeouts++;
    } else if (CONNECTION_CAUSES.has(d.cause)) {
      this.connectionErrors++;
      b.connectionErrors++;
    }
    let c = this.causes.get(d.cause);
    if (!c) {
      c = { cause: d.cause, count: 0, examples: [] };
      this.causes.set(d.cause, c);
    }
    c.count++;
    if (c.examples.length < 5)
      c.examples.push({
        outTradeNo: d.outTradeNo,
        status: d.status,
        copy: d.copy,
        attempt: d.attempt,
        answer: d.answer,
        evidence: d.evidence,
      });
  }

  get counts(): { sent: number; acknowledged: number; p99: number } {
    return {
      sent: this.sent,
      acknowledged: this.acknowledged,
      p99: this.latency.totalCount ? this.latency.getValueAtPercentile(99) : 0,
    };
  }

  snapshot(): AggregateSnapshot {
    const summary = (h: hdr.Histogram): LatencySummary => {
      const over = h.totalCount ? h.totalCount - countUpTo(h, ACK_TIME_LIMIT_MS) : 0;
      return {
        p50: h.totalCount ? h.getValueAtPercentile(50) : 0,
        p95: h.totalCount ? h.getValueAtPercentile(95) : 0,
        p99: h.totalCount ? h.getValueAtPercentile(99) : 0,
        max: h.totalCount ? h.maxValue : 0,
        mean: h.totalCount ? Math.round(h.mean * 10) / 10 : 0,
        overLimit: over,
      };
    };
    const seconds = [...this.buckets.keys()].sort((a, b) => a - b);
    const last = seconds.at(-1) ?? -1;
    const perSecond: SecondBucket[] = [];
    for (let s = 0; s <= last; s++) {
      const b = this.buckets.get(s);
      perSecond.push(
        b
          ? {
              second: s,
              sent: b.sent,
              acknowledged: b.acknowledged,
              failed: b.failed,
              timeouts: b.timeouts,
              connectionErrors: b.connectionErrors,
              p50Ms: b.latency.totalCount ? b.latency.getValueAtPercentile(50) : 0,
              p99Ms: b.latency.totalCount ? b.latency.getValueAtPercentile(99) : 0,
              maxMs: b.latency.totalCount ? b.latency.maxValue : 0,
            }
          : {
              second: s,
              sent: 0,
              acknowledged: 0,
              failed: 0,
              timeouts: 0,
              connectionErrors: 0,
              p50Ms: 0,
              p99Ms: 0,
              maxMs: 0,
            },
      );
    }
    return {
      sent: this.sent,
      acknowledged: this.acknowledged,
      failed: this.sent - this.acknowledged,
      timeouts: this.timeouts,
      connectionErrors: this.connectionErrors,
      duplicatesSent: this.duplicates,
      concurrentSent: this.concurrent,
      retriesSent: this.retries,
      latencyMs: summary(this.latency),
      serviceMs: summary(this.service),
      generatorMs: {
        p50: this.generator.totalCount ? this.generator.getValueAtPercentile(50) : 0,
        p99: this.generator.totalCount ? this.generator.getValueAtPercentile(99) : 0,
        max: this.generator.totalCount ? this.generator.maxValue : 0,
      },
      causes: [...this.causes.values()].sort((a, b) => b.count - a.count),
      perSecond,
      histogram: latencyBuckets(this.latency),
    };
  }
}

/** Answers at or under `ms`. */
function countUpTo(h: hdr.Histogram, ms: number): number {
  // The percentile rank of a value is the share at or below it.
  if (h.totalCount === 0) return 0;
  let lo = 0;
  let hi = 100;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (h.getValueAtPercentile(mid) <= ms) lo = mid;
    else hi = mid;
  }
  return Math.round((lo / 100) * h.totalCount);
}

/** Log-spaced buckets from 1 ms to the maximum (the shape of a latency distribution). */
function latencyBuckets(h: hdr.Histogram): { upToMs: number; count: number }[] {
  if (h.totalCount === 0) return [];
  const edges: number[] = [];
  for (let e = 1; e < h.maxValue * 1.26; e = Math.ceil(e * 1.26)) edges.push(e);
  edges.push(Math.max(h.maxValue, edges.at(-1) ?? 1));
  const out: { upToMs: number; count: number }[] = [];
  let below = 0;
  for (const edge of edges) {
    const upTo = countUpTo(h, edge);
    out.push({ upToMs: edge, count: Math.max(0, upTo - below) });
    below = Math.max(below, upTo);
  }
  return out;
}
