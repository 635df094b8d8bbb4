/**
 * Runs `work` at most once per id and tells whether this call was a duplicate.
 *
 * WeChat may deliver the same notification from several servers within seconds, and again on every
 * retry, so duplicates are normal: each copy is acknowledged, but the order is fulfilled once. A
 * copy arriving while the first is still being processed waits for it and shares its outcome. If
 * processing fails, the id is forgotten so that WeChat's next retry can try again.
 *
 * In-memory and unbounded, which suits a test receiver. A real shop gets the same guarantee from its
 * database: a unique key on the notification id, or a conditional update of the order's state.
 */
export type ProcessOnce = (id: string | undefined, work: () => void | Promise<void>) => Promise<{ duplicate: boolean }>;

export function createProcessOnce(): ProcessOnce {
  const seen = new Map<string, Promise<void>>();
  return async (id, work) => {
    if (!id) {
      await work(); // nothing to recognise a copy by
      return { duplicate: false };
    }
    const earlier = seen.get(id);
    if (earlier) {
      await earlier;
      return { duplicate: true };
    }
    const run = Promise.resolve().then(work);
    seen.set(id, run);
    try {
      await run;
    } catch (error) {
      seen.delete(id);
      throw error;
    }
    return { duplicate: false };
  };
}
