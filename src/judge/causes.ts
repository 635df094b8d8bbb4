/**
 * Every cause of a failed case, with the hint shown for it. One catalogue for the Postman test
 * messages (injected into the sandbox judge), the CLI table and the reports.
 */
export const HINTS = {
  slow: 'WeChat waits 5 s, then counts the attempt as failed and retries (超时重试): acknowledge first, do slow work afterwards.',
  redirect:
    'WeChat does not follow redirects: point notify_url at the final address (check http→https and a trailing slash).',
  'v3-200-code-fail':
    'HTTP 200 with {"code":"FAIL"} counts as received, so WeChat will not retry: answer 4xx/5xx when you want a retry, 200/204 when you accept.',
  'v3-other-2xx': 'WeChat treats only 200 and 204 as received (应答成功): answer 204 with no body, or 200.',
  'not-found': '404: check the notify path for a doubled slash, a trailing space or the wrong route (notify_url 路径).',
  'method-not-allowed': '405: WeChat POSTs the notification; allow POST on the notify route.',
  'too-large':
    '413: the receiver refused the body size; WeChat notifications are small, check the body limit and content-type parsing.',
  'html-page':
    "An HTML page came back instead of the handler's answer: a filter in front of the handler (CSRF protection, a login or auth filter, a WAF 防火墙) or the route's framework refused it. The page's title names it; docs/stacks.md lists the usual ones and their fixes.",
  csrf: 'CSRF protection (CSRF校验) refused the POST before the handler: WeChat Pay sends no CSRF token; exempt the notify route from CSRF checks.',
  'auth-wall':
    'An authentication filter (登录/鉴权拦截) refused the request before the handler: WeChat Pay sends no credentials; let the notify route through without login.',
  'login-wall':
    'A redirect to a login page (登录拦截): the route needs a logged-in user; take the notify route out of the login requirement, and do not point notify_url at the login page.',
  waf: 'A WAF, CDN or hosting panel (防火墙) blocked the notification before it reached the application: add a whitelist rule for the notify path in that product.',
  gateway:
    'A proxy or gateway answered for the application (网关错误): the application behind it is down, unreachable from it or too slow; check that it runs and the proxy points at it.',
  crash:
    'The handler crashed (5xx error page): its log has the exception; fix it, then answer success once the notification is verified and recorded.',
  'body-unread':
    "The handler never saw the notification's body (it reads form fields or a parsed body, WeChat Pay sends raw XML or JSON): read the raw request body (PHP php://input, Java getInputStream, Express express.text()); the keys are not the problem yet.",
  'v3-decrypt':
    'The signature passed but decryption failed (解密失败): the handler decrypts resource.ciphertext with an APIv3 key (APIv3密钥) other than the test key, or the wrong associated_data; put the TEST APIv3 key from keys/secrets.env in its configuration.',
  'server-error':
    'The handler failed on a genuine notification (5xx): its log has the exception; answer 200/204 (v2: SUCCESS) once the notification is verified and recorded.',
  'not-idempotent':
    'The first copy was acknowledged, this repeated copy got a 5xx: the handler is not idempotent (幂等). WeChat re-sends notifications: answer success again for one already processed, and process it only once.',
  'duplicate-order':
    'A duplicate or unique-constraint error: the handler is not idempotent (幂等), it treats an order (out_trade_no / transaction_id) it has seen before as an error. WeChat re-sends notifications: look the order up first and answer success when it was already processed.',
  'xml-parsed-as-json':
    'The answer complains about JSON (e.g. "invalid JSON body"): the handler parses the v2 XML notification as JSON. v2 bodies are XML (Content-Type text/xml): read the raw body and parse it as XML.',
  'client-error':
    'The handler refused a genuine notification (4xx): check signature verification and the keys in the test configuration.',
  'v2-empty-body':
    'v2 needs an XML answer: <xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>; an empty body counts as not received.',
  'v2-json-ack':
    'Answered JSON to a v2 notify: WeChat requires XML <xml><return_code>SUCCESS</return_code></xml> (应答必须为XML).',
  'v2-plain-text-ack':
    'Answered plain text (e.g. "success"): v2 requires XML <xml><return_code>SUCCESS</return_code></xml>.',
  'v2-bad-xml':
    'The XML answer is not <xml> with a return_code field: answer exactly <xml><return_code>SUCCESS</return_code><return_msg>OK</return_msg></xml>.',
  'v2-return-code-fail':
    'Answered return_code FAIL to a genuine notification: check that the body is parsed as XML (not JSON) and the APIv2 key (APIv2密钥) matches the test key.',
  'concurrent-copy':
    'A copy sent at the same moment as the notification was not acknowledged correctly: WeChat may deliver one notification from several servers at once; lock per order and answer success to every copy.',
  'acked-forged':
    'Acknowledged a forged notification: the handler does not verify it, so forged payments would be accepted.',
  'rejected-genuine':
    'Rejected a genuine notification: check the keys the test configuration trusts and that verification runs over the raw body.',
  'conn-refused':
    'Connection refused (连接被拒绝): nothing listens at notify_url; check host, port and that the server is running.',
  'conn-reset':
    'The connection was dropped before an answer (连接被重置): the handler or a proxy closed it; check for crashes and proxy timeouts.',
  timeout:
    'No answer in time (超时): WeChat gives up after 5 s; check that the handler does not block and the firewall lets the request in.',
  dns: 'The host name does not resolve (域名解析失败): check the notify_url host and DNS.',
  tls: 'The TLS handshake failed (证书错误): the certificate must be valid for the host, unexpired and sent with its full chain.',
  'tls-plain-http':
    'This port answers plain HTTP, not TLS (TLS "wrong version number"): use http:// for this port, or point the https:// URL at the port where TLS is served.',
  transport: 'The request failed before an answer came back: check that the receiver is reachable.',
  'bad-http':
    'The answer was not valid HTTP (报文格式错误): something other than a web server answers on this port (a proxy, a TLS port spoken to in plain http, a crashed worker); check the notify_url scheme and port.',
  skipped:
    'The notification could not be built, so it was not sent: see the reason (often an empty secret in the environment).',
  'apiv3-key':
    'WeChat Pay sends no v3 callbacks at all until an APIv3 key (APIv3密钥) is set in the merchant platform (商户平台 > 账户中心 > API安全): set it there and put the same 32 characters in the config.',
  'private-host':
    'WeChat Pay calls notify_url from the internet and cannot reach localhost, private, loopback or link-local addresses (内网地址): use a public host name, or add --allow-private to check a test server.',
  firewall:
    "No answer to the connection (连接超时): a firewall or security group (防火墙/安全组) drops the packets, or the host is down; allow WeChat Pay's callback IP ranges on the notify port.",
  'acked-probe':
    'The handler acknowledged an obvious non-notification (2xx): it may not verify signatures, so forged notifications would be accepted; answer 4xx to anything it cannot verify.',
} as const;

export type Cause = keyof typeof HINTS | 'ok';

/** Causes where no HTTP answer came back at all. */
export const TRANSPORT_CAUSES: readonly Cause[] = [
  'conn-refused',
  'conn-reset',
  'timeout',
  'dns',
  'tls',
  'tls-plain-http',
  'bad-http',
  'transport',
];

/** Maps a Node/Newman request error to a cause. */
export function transportCause(error: { code?: string; message?: string } | undefined): Cause {
  const code = error?.code ?? '';
  const message = error?.message ?? '';
  if (code === 'ECONNREFUSED') return 'conn-refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || /socket hang up/i.test(message)) return 'conn-reset';
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || /timed? ?out/i.test(message)) return 'timeout';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  // OpenSSL's "wrong version number": the server's first bytes were not a TLS record (plain HTTP).
  if (/wrong.version.number|WRONG_VERSION_NUMBER/i.test(code + ' ' + message)) return 'tls-plain-http';
  if (/CERT|SSL|TLS|self.signed|certificate|EPROTO/i.test(code + ' ' + message)) return 'tls';
  if (code.startsWith('HPE_') || /Parse Error/i.test(message)) return 'bad-http';
  return 'transport';
}
