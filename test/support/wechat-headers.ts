import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { V2_ACK_XML } from '../../src/protocol/constants.js';

/**
 * The header set WeChat sends with a notification, and a server that records the headers of every
 * request as it arrived: test/e2e/wechat-headers.test.ts checks Newman and the Postman app's engine
 * against it, test/e2e/bruno.test.ts Bruno in both sandboxes.
 */
export interface Seen {
  path: string;
  rawHeaders: string[];
}

/** v2 and v3, payment and refund, and v2 XML sent to the v3 refund URL. */
export const HEADER_CASES = [
  'v2.pay.success',
  'v2.refund.success',
  'v3.pay.success',
  'v3.refund.success',
  'v3.refund.manual-xml',
];
export const COMMON = ['accept', 'content-length', 'content-type', 'host', 'pragma', 'user-agent'];
export const V3_ONLY = [
  'request-id',
  'wechatpay-nonce',
  'wechatpay-serial',
  'wechatpay-signature',
  'wechatpay-signature-type',
  'wechatpay-timestamp',
];

/** The header names of a request, lower case, sorted (each as often as it was sent). */
export const headerNames = (s: Seen): string[] =>
  s.rawHeaders
    .filter((_, i) => i % 2 === 0)
    .map((n) => n.toLowerCase())
    .sort();

export const headerValue = (s: Seen, name: string): string | undefined => {
  const at = s.rawHeaders.findIndex((n, i) => i % 2 === 0 && n.toLowerCase() === name);
  return at < 0 ? undefined : s.rawHeaders[at + 1];
};

export const isV3 = (s: Seen): boolean => headerValue(s, 'wechatpay-signature') !== undefined;

export interface HeaderCapture {
  url: string;
  /** Every request so far, in the order they ended; empty it between runs. */
  seen: Seen[];
  close(): Promise<void>;
}

/** Records every request as it arrived and acknowledges it; verification is not the point here. */
export async function startHeaderCapture(): Promise<HeaderCapture> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ path: req.url ?? '', rawHeaders: req.rawHeaders });
      if (req.url?.includes('/v2/') || req.headers['content-type'] === 'text/xml')
        res.writeHead(200, { 'Content-Type': 'text/xml' }).end(V2_ACK_XML);
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
