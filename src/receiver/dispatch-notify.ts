import type { IncomingHttpHeaders } from 'node:http';
import { handleV2 } from './handle-v2.js';
import { handleV3 } from './handle-v3.js';
import { createDropPicker, createRacyProcessOnce, describeDrop, processEveryCopy, RaceRefusal } from './faults.js';
import { orderFacts } from './order-records.js';
import { createProcessOnce } from './process-once.js';
import type { HandlerResult, NotifyRoute, NotifyVersion, ReceiverOptions, ReceiverSteps } from './types.js';
import { V2_STEPS } from './v2-steps.js';
import { V3_STEPS } from './v3-steps.js';

export interface Dispatcher {
  /** Verifies the notification, then runs `onNotification` once per id; decides the reply. */
  dispatch(route: NotifyRoute, rawBody: string, headers: IncomingHttpHeaders): Promise<HandlerResult>;
  /** A refusal in the format of `version` (v2: return_code FAIL, v3: JSON code FAIL). */
  reject(route: NotifyRoute, version: NotifyVersion, status: number, reason: string): HandlerResult;
}

export function createDispatcher(opts: ReceiverOptions, steps: ReceiverSteps = {}): Dispatcher {
  const v2 = { ...V2_STEPS, ...steps.v2 };
  const v3 = { ...V3_STEPS, ...steps.v3 };
  const faults = opts.faults ?? {};
  const processOnce = faults.race
    ? createRacyProcessOnce(faults.race.windowMs)
    : faults.notIdempotent
      ? processEveryCopy
      : createProcessOnce();
  const dropNext = createDropPicker(faults);
  const { records } = opts;

  const reject: Dispatcher['reject'] = (route, version, status, reason) => {
    // v2 normally refuses with 200 + FAIL; an HTTP-level error (413…) keeps its own status.
    const reply =
      version === 'v2' ? { ...v2.reject(reason), ...(status >= 400 ? { status } : {}) } : v3.reject(status, reason);
    return {
      ...reply,
      log: { path: route.path, version, kind: route.kind, status: reply.status, outcome: 'reject', reason },
    };
  };

  const dispatch: Dispatcher['dispatch'] = async (route, rawBody, headers) => {
    const context = { path: route.path, steps };
    const result =
      route.version === 'v2'
        ? handleV2(rawBody, route.kind, opts, context)
        : handleV3(rawBody, headers, route.kind, opts, context);
    const { log } = result;
    if (log.outcome !== 'ack') return result;

    let dropped: string | undefined;
    const work = async (): Promise<void> => {
      const verified = {
        version: log.version,
        kind: log.kind,
        eventId: log.eventId ?? '',
        notification: log.notification,
      };
      await opts.onNotification?.(verified);
      if (!records) return;
      const facts = orderFacts(verified);
      if (dropNext?.()) {
        records.drop(facts);
        dropped = facts.kind === 'pay' ? `out_trade_no ${facts.out_trade_no}` : `out_refund_no ${facts.out_refund_no}`;
      } else records.add(facts);
    };
    try {
      const { duplicate } = await processOnce(log.eventId, work);
      if (duplicate) return { ...result, log: { ...log, duplicate, reason: 'already processed: acknowledged again' } };
      return dropped
        ? {
            ...result,
            log: { ...log, fault: `acknowledged, then lost the record of ${dropped} (${describeDrop(faults)})` },
          }
        : result;
    } catch (error) {
      if (error instanceof RaceRefusal) {
        // The race fault passes the database's words on, as many handlers do; any other failure
        // tells the sender only that processing failed (below).
        const refused = reject(route, log.version, error.status, error.message);
        return {
          ...refused,
          log: {
            ...log,
            ...refused.log,
            fault: 'two copies raced: refused the one that arrived while the first was processed',
          },
        };
      }
      // Refusing makes WeChat retry later. The sender learns only that processing failed; the
      // detail stays in the local log.
      const refused = reject(route, log.version, 500, 'processing failed; please retry');
      return { ...refused, log: { ...log, ...refused.log, reason: `processing failed: ${(error as Error).message}` } };
    }
  };

  return { dispatch, reject };
}
