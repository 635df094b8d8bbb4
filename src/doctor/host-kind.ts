import { isIP } from 'node:net';

/**
 * Which hosts WeChat Pay cannot reach from the internet (docs/protocol.md#notify_url-rules):
 * loopback, private, link-local and other non-public addresses, and names that only resolve inside a
 * network. Pure.
 */

const V4_RANGES: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, 'an unspecified ("this network") address'],
  ['10.0.0.0', 8, 'a private address (RFC 1918, 内网地址)'],
  ['100.64.0.0', 10, 'a carrier-grade NAT address (RFC 6598)'],
  ['127.0.0.0', 8, 'a loopback address (本机地址)'],
  ['169.254.0.0', 16, 'a link-local address'],
  ['172.16.0.0', 12, 'a private address (RFC 1918, 内网地址)'],
  ['192.0.0.0', 24, 'a reserved address (IETF protocol assignments)'],
  ['192.0.2.0', 24, 'a documentation address (TEST-NET-1, never routed)'],
  ['192.168.0.0', 16, 'a private address (RFC 1918, 内网地址)'],
  ['198.18.0.0', 15, 'a benchmarking address (never routed)'],
  ['198.51.100.0', 24, 'a documentation address (TEST-NET-2, never routed)'],
  ['203.0.113.0', 24, 'a documentation address (TEST-NET-3, never routed)'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved address'],
];

const INTERNAL_SUFFIXES = ['.local', '.internal', '.intranet', '.lan', '.corp', '.home', '.home.arpa', '.localdomain'];

function v4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** Why an IPv4 address is not public, or undefined when it is. */
function ipv4Kind(ip: string): string | undefined {
  const n = v4ToNumber(ip);
  for (const [base, bits, kind] of V4_RANGES) {
    const size = 2 ** (32 - bits);
    const start = v4ToNumber(base);
    if (n >= start && n < start + size) return kind;
  }
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail becomes two groups). */
function ipv6Groups(ip: string): number[] {
  let text = ip.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = v4ToNumber(v4[1]);
    text = text.slice(0, -v4[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
}

function ipv6Kind(ip: string): string | undefined {
  const g = ipv6Groups(ip);
  const [g0 = 0, g1 = 0, , , , g5 = 0, g6 = 0, g7 = 0] = g;
  if (g.every((x) => x === 0)) return 'an unspecified address (::)';
  if (g.slice(0, 7).every((x) => x === 0) && g7 === 1) return 'a loopback address (本机地址, ::1)';
  if (g.slice(0, 5).every((x) => x === 0) && g5 === 0xffff) {
    return ipv4Kind(`${g6 >> 8}.${g6 & 0xff}.${g7 >> 8}.${g7 & 0xff}`);
  }
  if ((g0 & 0xfe00) === 0xfc00) return 'a unique-local address (IPv6 内网地址, fc00::/7)';
  if ((g0 & 0xffc0) === 0xfe80) return 'a link-local address (fe80::/10)';
  if ((g0 & 0xff00) === 0xff00) return 'a multicast address';
  if (g0 === 0x2001 && g1 === 0x0db8) return 'a documentation address (2001:db8::/32, never routed)';
  return undefined;
}

/** Why an IP address is not reachable from the internet, or undefined for a public address. */
export function nonPublicAddressKind(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 4) return ipv4Kind(ip);
  if (family === 6) return ipv6Kind(ip);
  return undefined;
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
