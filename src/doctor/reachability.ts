import { isIP } from 'node:net';
import { classifyNetworkError, classifyProbe, classifyTls } from './classify.js';
import { bareHost, nonPublicAddressKind, nonPublicHostKind } from './host-kind.js';
import {
  bounded,
  defaultReachabilityDeps,
  probe,
  tcpConnect,
  timed,
  tlsHandshake,
  type ReachabilityDeps,
} from './net-steps.js';
import type { DoctorCheck } from './types.js';

export {
  DEFAULT_STEP_TIMEOUT_MS,
  PROBE_USER_AGENT,
  defaultReachabilityDeps,
  type ReachabilityDeps,
} from './net-steps.js';

/**
 * Can WeChat Pay reach this notify URL? Step by step — DNS, TCP, TLS, one harmless probe — each with
 * its own verdict and time, each bounded by `timeoutMs`. The network functions and the clock are
 * injected (net-steps.ts); the verdicts are pure (classify.ts).
 */

const MAX_ADDRESSES = 4;

export interface ReachabilityOptions {
  allowPrivate: boolean;
  insecure: boolean;
  /** Chooses the probe body: `<xml></xml>` for v2, `{}` for v3 (the default). */
  version?: 'v2' | 'v3';
}

const skip = (rule: string, message: string): DoctorCheck => ({ level: 'skipped', rule, message });

/** DNS, TCP, TLS (https only) and the probe for one URL; a failed step skips the ones after it. */
export async function checkReachability(
  url: string,
  opts: ReachabilityOptions,
  injected: Partial<ReachabilityDeps> = {},
): Promise<DoctorCheck[]> {
  const deps: ReachabilityDeps = { ...defaultReachabilityDeps, ...injected };
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return [skip('network', 'not checked: fix the URL first')];
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return [skip('network', 'not checked: fix the URL first')];
  const host = bareHost(parsed.hostname);
  if (!opts.allowPrivate && nonPublicHostKind(parsed.hostname) !== undefined) {
    return [
      skip('network', 'network checks skipped for a private host; to check a test server there, add --allow-private'),
    ];
  }
  const checks: DoctorCheck[] = [];
  const rest = (reason: string, ...rules: string[]): DoctorCheck[] => [
    ...checks,
    ...rules.map((r) => skip(r, `not run: ${reason}`)),
  ];
  const secure = parsed.protocol === 'https:';
  const later = (...rules: string[]): string[] => rules.filter((r) => secure || r !== 'tls');

  // 1. DNS: every address, and none of them private.
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
    checks.push({ level: 'ok', rule: 'dns', timeMs: 0, message: `no lookup needed: the host is an IP address` });
  } else {
    const dns = await timed(deps, () =>
      bounded<ReadonlyArray<{ address: string }>>(deps.timeoutMs, ({ resolve, reject }) => {
        deps.lookup(host).then(resolve, reject);
        return () => {};
      }),
    );
    if (dns.error || !dns.value || dns.value.length === 0) {
      checks.push(
        classifyNetworkError(
          'dns',
          dns.error ?? Object.assign(new Error('no addresses'), { code: 'ENOTFOUND' }),
          dns.timeMs,
          `resolving ${host}`,
        ),
      );
      return rest('the host does not resolve', ...later('tcp', 'tls', 'probe'));
    }
    addresses = [...new Set(dns.value.map((a) => a.address))];
    const privates = addresses.filter((a) => nonPublicAddressKind(a) !== undefined);
    const list = addresses.join(', ');
    if (privates.length > 0 && !opts.allowPrivate) {
      checks.push({
        level: 'error',
        rule: 'dns',
        timeMs: dns.timeMs,
        cause: 'private-host',
        message: `${host} resolves to ${list} here; ${privates.join(', ')} is ${nonPublicAddressKind(privates[0]!)} (split DNS? public DNS may differ). WeChat Pay cannot reach a private address; publish a public address, or add --allow-private for a test server`,
      });
      return rest('private address', ...later('tcp', 'tls', 'probe'));
    }
    checks.push(
      privates.length > 0
        ? {
            level: 'warning',
            rule: 'dns',
            timeMs: dns.timeMs,
            message: `${host} resolves to ${list}: private, fine for a test server (--allow-private), unreachable for WeChat Pay`,
          }
        : { level: 'ok', rule: 'dns', timeMs: dns.timeMs, message: `${host} resolves to ${list}` },
    );
  }

  // 2. TCP to each address (WeChat may pick any of them).
  const port = Number(parsed.port) || (secure ? 443 : 80);
  const targets = addresses.slice(0, MAX_ADDRESSES);
  const tcp = await Promise.all(targets.map((a) => timed(deps, () => tcpConnect(deps, a, port))));
  const open = targets.filter((_, i) => !tcp[i]!.error);
  const slowest = Math.max(...tcp.map((t) => t.timeMs));
  const where = (a: string): string => (isIP(a) === 6 ? `[${a}]:${port}` : `${a}:${port}`);
  if (open.length === 0) {
    checks.push(classifyNetworkError('tcp', tcp[0]!.error, slowest, `TCP connect to ${where(targets[0]!)}`));
    return rest('no TCP connection', ...later('tls', 'probe'));
  }
  if (open.length < targets.length) {
    const failed = targets.find((_, i) => tcp[i]!.error)!;
    const bad = classifyNetworkError(
      'tcp',
      tcp[targets.indexOf(failed)]!.error,
      slowest,
      `TCP connect to ${where(failed)}`,
    );
    checks.push({
      ...bad,
      level: 'warning',
      message: `${open.length} of ${targets.length} addresses accept connections; ${bad.message} WeChat may pick the failing one`,
    });
  } else {
    checks.push({
      level: 'ok',
      rule: 'tcp',
      timeMs: slowest,
      message: `connected to ${targets.map(where).join(', ')}`,
    });
  }
  const address = open[0]!;

  // 3. TLS: certificate valid for the host, unexpired, full chain; SNI = host.
  if (secure) {
    const hs = await timed(deps, () => tlsHandshake(deps, address, port, host));
    if (hs.error || !hs.value) {
      checks.push(classifyNetworkError('tls', hs.error, hs.timeMs, `TLS handshake with ${where(address)}`));
      return rest('no TLS connection', 'probe');
    }
    const verdict = classifyTls(hs.value, { host, insecure: opts.insecure, nowMs: deps.now(), timeMs: hs.timeMs });
    checks.push(verdict);
    if (verdict.level === 'error')
      return rest('the certificate is not trusted (add --insecure for a test server)', 'probe');
  }

  // 4. One harmless probe: obviously not a notification, no redirects followed.
  const answer = await timed(deps, () =>
    probe(deps, parsed, address, { version: opts.version, insecure: opts.insecure }),
  );
  if (answer.error || !answer.value) {
    checks.push(classifyNetworkError('probe', answer.error, answer.timeMs, `POST ${parsed.pathname}`));
  } else {
    checks.push(classifyProbe({ ...answer.value, timeMs: answer.timeMs }, { url: parsed.href, version: opts.version }));
  }
  return checks;
}
