import type { NotifyRoute, ReceiverOptions } from './types.js';

/**
 * The four notify paths by path. Each path serves one notification type, so a clash is a
 * configuration error reported at start-up (except the documented v2-XML-at-v3-refund case, which
 * the v3 handler recognises by its body).
 */
export function notifyRoutes(opts: ReceiverOptions): Map<string, NotifyRoute> {
  const routes = new Map<string, NotifyRoute>();
  const add = (path: string, route: Omit<NotifyRoute, 'path'>, field: string): void => {
    if (!path.startsWith('/')) throw new Error(`${field} must start with "/", got ${JSON.stringify(path)}`);
    const taken = routes.get(path);
    if (taken)
      throw new Error(
        `${field} ${path} is already the ${taken.version} ${taken.kind} path: give each notification its own path`,
      );
    routes.set(path, { path, ...route });
  };
  if (opts.v2) {
    add(opts.v2.payPath, { version: 'v2', kind: 'pay' }, 'v2.payPath');
    add(opts.v2.refundPath, { version: 'v2', kind: 'refund' }, 'v2.refundPath');
  }
  if (opts.v3) {
    add(opts.v3.payPath, { version: 'v3', kind: 'pay' }, 'v3.payPath');
    add(opts.v3.refundPath, { version: 'v3', kind: 'refund' }, 'v3.refundPath');
  }
  return routes;
}
