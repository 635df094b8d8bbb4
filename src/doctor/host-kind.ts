import { BlockList, isIP } from 'node:net';

/**
 * Which hosts WeChat Pay cannot reach from the internet (docs/protocol.md#notify_url-rules):
 * loopback, private, link-local and other non-public addresses, and names that only resolve inside a
 * network. Pure.
 */

type Family = 'ipv4' | 'ipv6';

/** The special-purpose ranges (IANA IPv4/IPv6 Special-Purpose Address Registries, RFC 6890), first match wins. */
const RANGES: ReadonlyArray<readonly [Family, string, number, string]> = [
  ['ipv4', '0.0.0.0', 8, 'an unspecified ("this network") address'],
  ['ipv4', '10.0.0.0', 8, 'a private address (RFC 1918, 内网地址)'],
  ['ipv4', '100.64.0.0', 10, 'a carrier-grade NAT address (RFC 6598)'],
  ['ipv4', '127.0.0.0', 8, 'a loopback address (本机地址)'],
  ['ipv4', '169.254.0.0', 16, 'a link-local address'],
  ['ipv4', '172.16.0.0', 12, 'a private address (RFC 1918, 内网地址)'],
  ['ipv4', '192.0.0.0', 24, 'a reserved address (IETF protocol assignments)'],
  ['ipv4', '192.0.2.0', 24, 'a documentation address (TEST-NET-1, never routed)'],
  ['ipv4', '192.168.0.0', 16, 'a private address (RFC 1918, 内网地址)'],
  ['ipv4', '198.18.0.0', 15, 'a benchmarking address (never routed)'],
  ['ipv4', '198.51.100.0', 24, 'a documentation address (TEST-NET-2, never routed)'],
  ['ipv4', '203.0.113.0', 24, 'a documentation address (TEST-NET-3, never routed)'],
  ['ipv4', '224.0.0.0', 4, 'a multicast address'],
  ['ipv4', '240.0.0.0', 4, 'a reserved address'],
  ['ipv6', '::', 128, 'an unspecified address (::)'],
  ['ipv6', '::1', 128, 'a loopback address (本机地址, ::1)'],
  ['ipv6', 'fc00::', 7, 'a unique-local address (IPv6 内网地址, fc00::/7)'],
  ['ipv6', 'fe80::', 10, 'a link-local address (fe80::/10)'],
  ['ipv6', 'ff00::', 8, 'a multicast address'],
  ['ipv6', '2001:db8::', 32, 'a documentation address (2001:db8::/32, never routed)'],
];

/**
 * One BlockList per range, so a match can name its kind. Node's BlockList also matches an
 * IPv4-mapped IPv6 address (::ffff:192.168.0.1) against the IPv4 ranges.
 */
const KINDS = RANGES.map(([family, network, prefix, kind]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, kind };
});

const INTERNAL_SUFFIXES = ['.local', '.internal', '.intranet', '.lan', '.corp', '.home', '.home.arpa', '.localdomain'];

/** Why an IP address is not reachable from the internet, or undefined for a public address. */
export function nonPublicAddressKind(ip: string): string | undefined {
  // A zone (fe80::1%eth0) names an interface, not part of the address; BlockList does not take one.
  const address = ip.replace(/%.*$/, '');
  const family = isIP(address);
  if (family === 0) return undefined;
  const type: Family = family === 4 ? 'ipv4' : 'ipv6';
  return KINDS.find(({ list }) => list.check(address, type))?.kind;
}

/** The URL hostname without IPv6 brackets or a trailing dot. */
export function bareHost(hostname: string): string {
  const unbracketed = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return unbracketed.endsWith('.') ? unbracketed.slice(0, -1) : unbracketed;
}

/** Why a URL host (name or IP) cannot be reached by WeChat Pay, or undefined when it may be public. */
export function nonPublicHostKind(hostname: string): string | undefined {
  const host = bareHost(hostname).toLowerCase();
  if (isIP(host)) return nonPublicAddressKind(host);
  if (host === 'localhost' || host.endsWith('.localhost')) return 'localhost (本机)';
  const suffix = INTERNAL_SUFFIXES.find((s) => host.endsWith(s));
  if (suffix) return `an internal name (${suffix} only resolves inside a network)`;
  if (!host.includes('.')) return 'a single-label name (not a public domain; it only resolves inside a network)';
  return undefined;
}
