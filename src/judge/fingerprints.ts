/**
 * What real stacks answer when something other than a working notify handler replies: CSRF
 * middleware, auth filters, login walls, routes without POST, framework crash pages, cloud WAFs and
 * hosting panels, gateways. Data, in one place: `run`'s rows, the run diagnosis and `doctor` all
 * name a stack from this table, and docs/stacks.md is generated from it.
 *
 * Each entry says what it saw, in whose words, and the fix for that stack. Order matters: specific
 * shapes (a named product's page) come before generic ones (any 401 with WWW-Authenticate, any 5xx
 * HTML page). An answer that matches nothing is left to the judge's general causes.
 */

/** Where the answer comes from, which decides what kind of fix helps. */
export type StackKind =
  /** CSRF protection refuses a POST without a token: the framework's default, before the handler. */
  | 'csrf'
  /** An authentication filter (HTTP auth, JWT, session, Sa-Token…) in front of every route. */
  | 'auth'
  /** A redirect to a login page: the route needs a logged-in user. */
  | 'login'
  /** The route exists but not for POST. */
  | 'method'
  /** The framework cannot read the notification's body (no parser for its content type, an empty body). */
  | 'body-unread'
  /** The handler threw and the framework's error page answered: the handler's own log has it. */
  | 'crash'
  /** A WAF, CDN or hosting panel blocked the request before it reached the application. */
  | 'waf'
  /** A proxy or gateway answered for an application that is down, unreachable or too slow. */
  | 'gateway';

/** Kinds that answer in front of the handler: the handler never saw the notification. */
export const WALL_KINDS: ReadonlySet<StackKind> = new Set<StackKind>([
  'csrf',
  'auth',
  'login',
  'method',
  'waf',
  'gateway',
]);

/** An HTTP answer as the judge sees it: header names in lower case. */
export interface StackAnswer {
  status: number;
  headers: Readonly<Record<string, string | undefined>>;
  body: string;
}

export interface Fingerprint {
  /** Stable id, e.g. `django-csrf`. */
  id: string;
  /** The stack in a merchant's words, e.g. `Django CSRF middleware (CsrfViewMiddleware)`. */
  stack: string;
  kind: StackKind;
  /** Statuses this shape comes with; absent: any. */
  status?: readonly number[] | { min: number; max: number };
  /** Every listed header must be present and match. */
  headers?: Readonly<Record<string, RegExp>>;
  /** The body must match (searched in its first 16 KB). */
  body?: RegExp;
  /** For redirects: the Location must match. */
  location?: RegExp;
  /** What the stack answers, for docs/stacks.md. */
  answers: string;
  /** Why the notification is refused, in plain words. */
  cause: string;
  /** The concrete fix for this stack. */
  fix: string;
  /** Where the answer's shape comes from (the framework's source or documentation). */
  source: string;
  /** When the tests run the real stack and check this entry names its answer: which one. */
  recordedFrom?: string;
}

export interface StackMatch {
  id: string;
  stack: string;
  kind: StackKind;
  cause: string;
  fix: string;
  source: string;
  /** What in the answer matched, for the row: `HTTP 419, "Page Expired"`. */
  saw: string;
}

const html = /^\s*(<!doctype html|<html|<head|<body|<title|<h1|<pre|<center)/i;
const HTML_PAGE = /<(html|body|title|h1|pre|center)[\s>]/i;
const WECHAT_IP_NOTE =
  "WeChat Pay's callbacks come from changing addresses, so exempt the notify path rather than IP ranges where the product allows it";

export const FINGERPRINTS: readonly Fingerprint[] = [
  // ── Cloud WAFs, CDNs and hosting panels: named by their own markers ─────────────────────────────
  {
    id: 'aliyun-waf',
    stack: 'Alibaba Cloud WAF (阿里云 Web应用防火墙)',
    kind: 'waf',
    status: [405],
    body: /errors?\.aliyun(dun)?\.(com|net)|aliyundun|阿里云/i,
    answers: 'HTTP 405 block page (拦截页) linking errors.aliyun.com, with a request id (Request ID / traceid)',
    cause:
      'the WAF blocked the notification (its rules read the XML/JSON body as an attack) before it reached your server.',
    fix: `In the WAF console (Web应用防火墙 > 防护配置), add a whitelist rule (白名单) for the notify path so protection modules skip it; look the request id up in the WAF's logs to see which rule fired. ${WECHAT_IP_NOTE}.`,
    source:
      'https://help.aliyun.com/zh/waf/web-application-firewall-2-0/user-guide/log-fields-supported-by-waf (action block: "returns a 405 page"); wafw00f plugins/aliyundun.py',
  },
  {
    id: 'tencent-waf',
    stack: 'Tencent Cloud WAF (腾讯云 Web应用防火墙)',
    kind: 'waf',
    body: /waf(-static)?\.tencent(-cloud)?\.com|tencent cloud waf|腾讯云\s*(web\s*应用)?防火墙|T-Sec/i,
    answers: 'a block page (403/405/501) that loads waf.tencent-cloud.com or waf-static.tencent.com/501page.html',
    cause: 'the WAF blocked the notification before it reached your server.',
    fix: `In the Tencent Cloud WAF console, add a precise whitelist rule (精准白名单) for the notify path (or the request's rule id). ${WECHAT_IP_NOTE}.`,
    source:
      'sqlmap waf/tencent.py (405 + waf.tencent-cloud.com); public block-page collections (waf-static.tencent.com/501page.html)',
  },
  {
    id: 'edgeone',
    stack: 'Tencent EdgeOne (腾讯云 EdgeOne 边缘安全加速)',
    kind: 'waf',
    status: { min: 400, max: 499 },
    headers: { 'eo-log-uuid': /./ },
    answers: 'a 4xx with an EO-LOG-UUID header (EdgeOne answered, not your origin)',
    cause:
      'EdgeOne refused the notification at the edge (Web防护 / Bot管理 rules, or a rate limit) before it reached your origin.',
    fix: 'In the EdgeOne console (安全防护 > Web防护 > 自定义规则), add a rule that skips (放行/跳过) protection for the notify path; look the EO-LOG-UUID up in the edge logs to see which rule fired.',
    source: 'https://cloud.tencent.com/document/product/1552/105788 (EO-LOG-UUID)',
  },
  {
    id: 'cloudflare-block',
    stack: 'Cloudflare WAF / challenge',
    kind: 'waf',
    status: [403, 429, 503],
    headers: { server: /cloudflare/i },
    answers:
      'HTTP 403 "Attention Required! | Cloudflare" / "Sorry, you have been blocked", or a "Just a moment..." challenge (cf-mitigated: challenge), with a cf-ray id',
    cause: 'Cloudflare blocked or challenged the notification; WeChat Pay cannot solve a browser challenge.',
    fix: 'Add a WAF custom rule for the notify path with action Skip (all remaining custom rules, managed rules, Bot Fight Mode / Super Bot Fight Mode), and keep "Under Attack" mode off for it.',
    source:
      'https://developers.cloudflare.com/waf/custom-rules/skip/ ; wafw00f plugins/cloudflare.py (server: cloudflare, cf-ray)',
  },
  {
    id: 'cloudflare-origin',
    stack: 'Cloudflare (origin unreachable)',
    kind: 'gateway',
    status: [520, 521, 522, 523, 524, 525, 526],
    headers: { server: /cloudflare/i },
    answers: 'HTTP 52x Cloudflare error page ("Web server is down", "Connection timed out", "A timeout occurred")',
    cause:
      'Cloudflare answered because your origin server did not (down, refused, too slow, or a TLS problem between Cloudflare and it).',
    fix: 'Check that the origin runs and accepts connections from Cloudflare on the right port and TLS mode (SSL/TLS > Full); answer within 5 s.',
    source: 'https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-5xx-errors/',
  },
  {
    id: 'baota-waf',
    stack: 'BaoTa panel firewall (宝塔网站防火墙 btwaf)',
    kind: 'waf',
    body: /宝塔网站防火墙|btwaf|www\.bt\.cn\/bbs|您的请求带有不合法参数/i,
    answers: 'a block page "宝塔网站防火墙" / "您的请求带有不合法参数，已被网站管理员设置拦截"',
    cause: 'the BaoTa site firewall blocked the notification (its POST filter reads the XML/JSON body as an attack).',
    fix: '宝塔面板 > 网站防火墙 (Nginx防火墙) > this site > URL白名单: add the notify path (or turn off POST过滤 for it).',
    source: 'BaoTa btwaf block page (宝塔网站防火墙免费版, www.bt.cn/bbs), as matched by public WAF fingerprint sets',
  },
  {
    id: 'safedog',
    stack: 'SafeDog (安全狗 网站安全狗)',
    kind: 'waf',
    headers: { server: /safedog|WAF\/2\.0/i },
    answers:
      'a block page from a server that names itself Safedog or WAF/2.0 (safedog.cn images, safedog-flow-item cookie)',
    cause: 'SafeDog blocked the notification before your application saw it.',
    fix: '安全狗 > 网站防护 > 防护规则/白名单: add the notify path to the URL whitelist (URL白名单).',
    source: 'wafw00f plugins/safedog.py (Server/X-Powered-By Safedog or WAF/2.0, safedog-flow-item)',
  },
  {
    id: 'safedog-body',
    stack: 'SafeDog (安全狗 网站安全狗)',
    kind: 'waf',
    body: /safedog\.cn|safedogsite|网站安全狗/i,
    answers: 'a block page loading images from safedog.cn',
    cause: 'SafeDog blocked the notification before your application saw it.',
    fix: '安全狗 > 网站防护 > 防护规则/白名单: add the notify path to the URL whitelist (URL白名单).',
    source: 'wafw00f plugins/safedog.py (404.safedog.cn, safedogsite/broswer_logo.jpg)',
  },

  // ── CSRF middleware: a POST without a token, refused before the handler ─────────────────────────
  {
    id: 'laravel-csrf',
    stack: 'Laravel CSRF middleware (VerifyCsrfToken / ValidateCsrfToken)',
    kind: 'csrf',
    status: [419],
    answers: 'HTTP 419 "Page Expired" (HTML), or {"message":"CSRF token mismatch."} to JSON clients',
    cause: 'Laravel checks a CSRF token on every POST in the web middleware group, and WeChat Pay sends none.',
    fix: "Exclude the notify route from CSRF checks: Laravel 11+ `$middleware->validateCsrfTokens(except: ['wxpay/notify'])` in bootstrap/app.php; Laravel ≤10 add it to `$except` in app/Http/Middleware/VerifyCsrfToken.php (or define the route in routes/api.php).",
    source:
      'https://github.com/laravel/framework/blob/11.x/src/Illuminate/Foundation/Exceptions/views/419.blade.php ; src/Illuminate/Foundation/Http/Middleware/VerifyCsrfToken.php',
  },
  {
    id: 'django-csrf',
    stack: 'Django CSRF middleware (CsrfViewMiddleware)',
    kind: 'csrf',
    status: [403],
    body: /CSRF verification failed/i,
    answers: 'HTTP 403 HTML "Forbidden (403) CSRF verification failed. Request aborted."',
    cause: 'Django checks a CSRF token on every POST, and WeChat Pay sends none.',
    fix: 'Decorate the notify view with `@csrf_exempt` (from django.views.decorators.csrf).',
    source: 'https://github.com/django/django/blob/main/django/views/csrf.py',
    recordedFrom: 'Django 3.2 (Debian python3-django), test/fixtures/stacks/django_app.py',
  },
  {
    id: 'flask-wtf-csrf',
    stack: 'Flask-WTF CSRFProtect',
    kind: 'csrf',
    status: [400],
    body: /The CSRF (session )?token is missing|CSRF token (is invalid|has expired)/i,
    answers: 'HTTP 400 "Bad Request: The CSRF token is missing."',
    cause: 'CSRFProtect checks a token on every POST, and WeChat Pay sends none.',
    fix: 'Exempt the notify view: `@csrf.exempt` (csrf = CSRFProtect(app)).',
    source: 'https://github.com/wtforms/flask-wtf/blob/main/src/flask_wtf/csrf.py',
  },
  {
    id: 'rails-csrf',
    stack: 'Rails forgery protection (protect_from_forgery)',
    kind: 'csrf',
    status: [422],
    body: /The change you wanted was rejected|InvalidAuthenticityToken/i,
    answers:
      'HTTP 422 "The change you wanted was rejected" (public/422.html), ActionController::InvalidAuthenticityToken in the log',
    cause: 'Rails verifies an authenticity token on every POST, and WeChat Pay sends none.',
    fix: 'In the notify controller: `skip_forgery_protection only: :notify` (Rails 5.2+; older: `skip_before_action :verify_authenticity_token`).',
    source:
      'https://github.com/rails/rails/blob/main/railties/lib/rails/generators/rails/app/templates/public/422.html ; actionpack/lib/action_controller/metal/request_forgery_protection.rb',
  },
  {
    id: 'express-csurf',
    stack: 'Express csurf middleware',
    kind: 'csrf',
    status: [403],
    body: /invalid csrf token|EBADCSRFTOKEN/i,
    answers: 'HTTP 403 "ForbiddenError: invalid csrf token" (code EBADCSRFTOKEN)',
    cause: 'csurf checks a token on every POST, and WeChat Pay sends none.',
    fix: 'Mount the notify route before `app.use(csurf())`, or apply csurf only to the routes that render forms.',
    source: 'https://github.com/expressjs/csurf/blob/master/index.js (createError(403, "invalid csrf token"))',
  },
  {
    id: 'thinkphp-token',
    stack: 'ThinkPHP form token (表单令牌)',
    kind: 'csrf',
    body: /令牌数据无效/,
    answers: '"令牌数据无效" (invalid token) from the form-token check',
    cause:
      "ThinkPHP's form-token check (FormTokenCheck middleware or a `token` validation rule) refuses a POST without __token__.",
    fix: 'Take the notify route out of the FormTokenCheck middleware (route-level middleware instead of global), and drop the `token` rule from its validation.',
    source:
      'https://github.com/top-think/framework/blob/6.1/src/think/middleware/FormTokenCheck.php ; src/lang/zh-cn.php',
  },
  {
    id: 'spring-security-403',
    stack: 'Spring Security (CSRF protection or an authorization rule)',
    kind: 'csrf',
    status: [403],
    body: /"status"\s*:\s*403[\s\S]*"error"\s*:\s*"Forbidden"|Whitelabel Error Page[\s\S]*status=403|Invalid CSRF Token/i,
    answers:
      'HTTP 403 Spring Boot error JSON {"status":403,"error":"Forbidden"} (or the Whitelabel page, type=Forbidden)',
    cause:
      "Spring Security refuses the POST before the controller: CSRF protection is on by default for POST, or the route isn't permitted without login.",
    fix: 'In the SecurityFilterChain: `http.csrf(c -> c.ignoringRequestMatchers("/notify/**"))` and `.authorizeHttpRequests(a -> a.requestMatchers("/notify/**").permitAll())`.',
    source:
      'https://github.com/spring-projects/spring-security/blob/main/web/src/main/java/org/springframework/security/web/csrf/CsrfFilter.java ; spring-boot DefaultErrorAttributes',
  },
  {
    id: 'csrf-generic',
    stack: 'CSRF protection',
    kind: 'csrf',
    status: [400, 403, 419, 422],
    body: /csrf|xsrf|authenticity token|forgery/i,
    answers: 'a 4xx whose body mentions CSRF / XSRF / an authenticity token',
    cause: 'a CSRF check refuses the POST because WeChat Pay sends no token.',
    fix: 'Exempt the notify route from CSRF protection (it is authenticated by its signature, not by a session).',
    source:
      'OWASP CSRF Prevention Cheat Sheet: https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html',
  },

  // ── Auth filters and login walls ────────────────────────────────────────────────────────────────
  {
    id: 'sa-token',
    stack: 'Sa-Token login check (SaInterceptor / StpUtil.checkLogin)',
    kind: 'auth',
    body: /未能读取到有效\s*token|token\s*无效|NotLoginException|未提供\s*token/i,
    answers: 'NotLoginException "未能读取到有效 token" (usually in the app\'s JSON wrapper, or a 500 page)',
    cause: 'the Sa-Token interceptor requires a login on every route, and WeChat Pay sends no token.',
    fix: 'Exclude the notify path: `registry.addInterceptor(new SaInterceptor(...)).addPathPatterns("/**").excludePathPatterns("/notify/**")` (or `SaRouter.match("/**").notMatch("/notify/**")`).',
    source:
      'https://github.com/dromara/Sa-Token/blob/master/sa-token-core/src/main/java/cn/dev33/satoken/exception/NotLoginException.java',
  },
  {
    id: 'jwt-middleware',
    stack: 'JWT middleware',
    kind: 'auth',
    status: [401, 403],
    body: /No authorization token was found|Missing Authorization Header|jwt (must be provided|malformed|expired)|^\s*Authentication Error\s*$/i,
    answers:
      'HTTP 401 "No authorization token was found" (express-jwt), {"msg":"Missing Authorization Header"} (flask-jwt-extended), "Authentication Error" (koa-jwt)',
    cause: 'a token check runs in front of every route, and WeChat Pay sends no Authorization header.',
    fix: "Exclude the notify route from the token check, e.g. express-jwt `jwt({...}).unless({ path: ['/notify'] })`, koa-jwt `.unless({ path: [/^\\/notify/] })`, or register the route outside the protected group; the notification is authenticated by its signature.",
    source:
      'https://github.com/auth0/express-jwt/blob/master/src/index.ts ; https://github.com/vimalloc/flask-jwt-extended (NoAuthorizationError)',
  },
  {
    id: 'drf-auth',
    stack: 'Django REST framework authentication',
    kind: 'auth',
    status: [401, 403],
    body: /Authentication credentials were not provided/i,
    answers: 'HTTP 401/403 {"detail":"Authentication credentials were not provided."}',
    cause: "DRF's default permission classes require an authenticated user, and WeChat Pay sends no credentials.",
    fix: 'On the notify view: `authentication_classes = []` and `permission_classes = [AllowAny]` (and `@csrf_exempt` if it is a plain Django view).',
    source:
      'https://github.com/encode/django-rest-framework/blob/master/rest_framework/exceptions.py (NotAuthenticated)',
  },
  {
    id: 'http-auth',
    stack: 'an HTTP authentication filter',
    kind: 'auth',
    status: [401],
    headers: { 'www-authenticate': /./ },
    answers:
      'HTTP 401 with WWW-Authenticate (Basic realm="Realm" from Spring Security httpBasic, nginx auth_basic; Bearer from a token filter)',
    cause: 'an authentication filter asks for credentials on every request, and WeChat Pay sends none.',
    fix: 'Let the notify path through without login: Spring Security `.requestMatchers("/notify/**").permitAll()`, nginx `auth_basic off;` in its location, or the equivalent in your gateway.',
    source:
      'RFC 9110 §11.6.1 (401 carries WWW-Authenticate); Spring Security BasicAuthenticationEntryPoint (realm "Realm")',
  },
  {
    id: 'shiro-login',
    stack: 'Apache Shiro (authc filter)',
    kind: 'login',
    status: { min: 300, max: 399 },
    location: /\/login\.jsp/i,
    answers: "HTTP 302 to /login.jsp (Shiro's default loginUrl)",
    cause: "Shiro's authc filter sends every unauthenticated request to the login page.",
    fix: 'Put the notify path before the catch-all: `filterChainDefinitionMap.put("/notify/**", "anon")`.',
    source:
      'https://github.com/apache/shiro/blob/main/web/src/main/java/org/apache/shiro/web/filter/AccessControlFilter.java (DEFAULT_LOGIN_URL "/login.jsp")',
  },
  {
    id: 'login-redirect',
    stack: 'a login wall',
    kind: 'login',
    status: { min: 300, max: 399 },
    location:
      /\/(accounts\/)?(login|signin|sign_in|sign-in|sso|cas|passport|oauth2?\/authorize|auth\/realms)\b|[?&](next|redirect(_uri|_url)?|returnUrl|return_to|service|ReturnUrl|callback)=/i,
    answers:
      'HTTP 302 to a login page: /accounts/login/?next=/notify (Django login_required), /login (Spring Security formLogin, Laravel auth), an SSO or CAS gateway',
    cause: 'the route needs a logged-in user; the redirect leads to a login page, not to the handler.',
    fix: 'Take the notify route out of the login requirement: Django remove `@login_required` (or LoginRequiredMiddleware: `@login_not_required`), Spring Security `.requestMatchers("/notify/**").permitAll()`, Laravel move it out of the `auth` middleware group. Do not point notify_url at the login page.',
    source:
      'https://github.com/django/django/blob/main/django/contrib/auth/views.py (redirect_to_login, LOGIN_URL /accounts/login/?next=)',
    recordedFrom: 'Django 3.2 (Debian python3-django), test/fixtures/stacks/django_app.py',
  },

  // ── The route is there, not for POST, or cannot read the body ──────────────────────────────────
  {
    id: 'tomcat-405',
    stack: 'a Java servlet without doPost (Tomcat)',
    kind: 'method',
    status: [405],
    body: /HTTP method POST is not supported|Request method 'POST' (is )?not supported/i,
    answers:
      'HTTP 405 "HTTP method POST is not supported by this URL" (HttpServlet), or Spring "Request method \'POST\' is not supported"',
    cause: 'the servlet or controller does not handle POST.',
    fix: 'Implement doPost (servlet) or use @PostMapping / @RequestMapping(method = POST) on the notify controller.',
    source:
      'https://github.com/apache/tomcat/blob/main/java/jakarta/servlet/http/HttpServlet.java (http.method_post_not_supported)',
  },
  {
    id: 'method-not-allowed',
    stack: 'a route without POST',
    kind: 'method',
    status: [405],
    headers: { allow: /^(?![\s\S]*\bPOST\b)/i },
    answers:
      'HTTP 405 with an Allow header that lacks POST (e.g. Allow: GET, HEAD, OPTIONS): Flask methods=…, Django require_GET / require_http_methods, Spring @GetMapping',
    cause: 'the notify route exists but only for the methods in Allow; WeChat Pay POSTs.',
    fix: "Accept POST on the notify route: Flask `methods=['POST']`, Django `@require_POST` (or no decorator), Spring `@PostMapping`, Express `app.post(...)`.",
    source: 'RFC 9110 §15.5.6 (405 lists Allow); werkzeug MethodNotAllowed; django.http.HttpResponseNotAllowed',
    recordedFrom:
      'Django 3.2 (Debian python3-django), test/fixtures/stacks/django_app.py; Flask 2.2 / Werkzeug 2.2 (Debian python3-flask), test/fixtures/stacks/flask_app.py',
  },
  {
    id: 'unsupported-media-type',
    stack: 'a framework without a parser for the body',
    kind: 'body-unread',
    status: [415],
    answers:
      'HTTP 415, e.g. Fastify {"code":"FST_ERR_CTP_INVALID_MEDIA_TYPE","message":"Unsupported Media Type: text/xml"}, Spring HttpMediaTypeNotSupportedException',
    cause:
      "the framework has no parser for the notification's Content-Type (v2: text/xml, v3: application/json) and refused it before the handler.",
    fix: 'Read the raw body on the notify route: Fastify `app.addContentTypeParser(["text/xml", "application/xml"], { parseAs: "string" }, (req, body, done) => done(null, body))`; Spring `@RequestBody String body` without a narrow `consumes`.',
    source: 'https://github.com/fastify/fastify/blob/main/lib/errors.js (FST_ERR_CTP_INVALID_MEDIA_TYPE, 415)',
  },
  {
    id: 'body-unread',
    stack: 'a handler that does not read the raw body',
    kind: 'body-unread',
    body: /cannot read propert(y|ies) of (undefined|null)|cannot destructure property|NullPointerException|(request|post|xml|body|data|input|请求|数据|参数|报文|内容)\s*(is\s*)?(为空|是空|empty|missing|null|undefined)|no (xml|data|body|input) (received|found|given)|没有(收到)?(数据|参数)|读取.{0,6}失败/i,
    answers:
      'an answer saying the body or its data is empty, missing or undefined ("数据为空", "Cannot read properties of undefined", a NullPointerException)',
    cause:
      'the handler never saw the notification: it reads form fields or a parsed body, and WeChat Pay sends raw XML (v2, text/xml) or JSON (v3), so there is nothing to verify yet; the keys are not the problem.',
    fix: "Read the raw request body: PHP `file_get_contents('php://input')` (not $_POST), Java `request.getInputStream()` / `@RequestBody String` (not getParameter), Express `express.text({ type: '*/*' })` or `express.raw()` on the notify route, Koa `ctx.request.rawBody`, then verify and parse it.",
    source:
      'https://www.php.net/manual/en/reserved.variables.post.php ($_POST only for form encodings); https://expressjs.com/en/api.html#express.text (default type text/plain)',
    recordedFrom: 'Express 5 (devDependency), test/fixtures/stacks/express-app.ts (no text parser)',
  },

  // ── The handler crashed: the framework's error page answered ────────────────────────────────────
  {
    id: 'django-debug-500',
    stack: 'Django (DEBUG = True error page)',
    kind: 'crash',
    status: { min: 500, max: 599 },
    body: /You[’']re seeing this error because you have <code>DEBUG = True<\/code>/i,
    answers: 'HTTP 500 technical page "<ExceptionType> at /path" with a traceback',
    cause: 'the notify view raised an exception; the page shows which one.',
    fix: "Read the exception on the page or in Django's log, fix the view, and turn DEBUG off in production (the page leaks settings).",
    source: 'https://github.com/django/django/blob/main/django/views/templates/technical_500.html',
  },
  {
    id: 'django-500',
    stack: 'Django',
    kind: 'crash',
    status: [500],
    body: /<h1>Server Error \(500\)<\/h1>/i,
    answers: 'HTTP 500 "<h1>Server Error (500)</h1>"',
    cause: 'the notify view raised an exception (DEBUG is off, so the page says nothing more).',
    fix: "The traceback is in Django's log (ADMINS mail or the django.request logger): fix the view.",
    source: 'https://github.com/django/django/blob/main/django/views/defaults.py',
    recordedFrom: 'Django 3.2 (Debian python3-django), test/fixtures/stacks/django_app.py',
  },
  {
    id: 'werkzeug-500',
    stack: 'Flask (Werkzeug)',
    kind: 'crash',
    status: [500],
    body: /<title>500 Internal Server Error<\/title>\s*<h1>Internal Server Error<\/h1>/i,
    answers:
      'HTTP 500 "<title>500 Internal Server Error</title><h1>Internal Server Error</h1> The server encountered an internal error…"',
    cause: 'the notify view raised an exception.',
    fix: "The traceback is in Flask's log (app.logger / the WSGI server's stderr): fix the view.",
    source: 'https://github.com/pallets/werkzeug/blob/main/src/werkzeug/exceptions.py',
    recordedFrom: 'Flask 2.2 / Werkzeug 2.2 (Debian python3-flask), test/fixtures/stacks/flask_app.py',
  },
  {
    id: 'spring-whitelabel',
    stack: 'Spring Boot',
    kind: 'crash',
    status: { min: 500, max: 599 },
    body: /Whitelabel Error Page|"status"\s*:\s*5\d\d\s*,\s*"error"\s*:\s*"[^"]*"/i,
    answers:
      'HTTP 500 Whitelabel Error Page, or error JSON {"timestamp":…,"status":500,"error":"Internal Server Error","path":"/notify"}',
    cause: 'the notify controller threw an exception.',
    fix: "The stack trace is in the application's log: fix the controller (a NullPointerException here often means it read request parameters instead of the raw body).",
    source:
      'https://github.com/spring-projects/spring-boot (ErrorMvcAutoConfiguration StaticView, DefaultErrorAttributes)',
  },
  {
    id: 'tomcat-500',
    stack: 'Tomcat',
    kind: 'crash',
    status: { min: 500, max: 599 },
    body: /<title>HTTP Status 5\d\d/i,
    answers: 'HTTP 500 "HTTP Status 500 – Internal Server Error" (ErrorReportValve)',
    cause: 'the servlet threw an exception.',
    fix: "The stack trace is in Tomcat's log (catalina.out / localhost.<date>.log): fix the servlet.",
    source: 'https://github.com/apache/tomcat/blob/main/java/org/apache/catalina/valves/ErrorReportValve.java',
  },
  {
    id: 'laravel-500',
    stack: 'Laravel',
    kind: 'crash',
    status: [500],
    body: /<title>\s*Server Error\s*<\/title>|Whoops, looks like something went wrong/i,
    answers: 'HTTP 500 page titled "Server Error" (APP_DEBUG=false)',
    cause: 'the notify controller threw an exception.',
    fix: 'The exception is in storage/logs/laravel.log: fix the controller.',
    source: 'https://github.com/laravel/framework/blob/11.x/src/Illuminate/Foundation/Exceptions/views/500.blade.php',
  },
  {
    id: 'thinkphp-500',
    stack: 'ThinkPHP',
    kind: 'crash',
    status: { min: 500, max: 599 },
    body: /页面错误！请稍后再试|ThinkPHP|系统发生错误/,
    answers: 'HTTP 500 "页面错误！请稍后再试～" (app_debug off) or the 系统发生错误 debug page',
    cause: 'the notify controller threw an exception.',
    fix: 'The exception is in runtime/log/: fix the controller.',
    source: 'https://github.com/top-think/framework/blob/6.1/src/tpl/think_exception.tpl',
  },
  {
    id: 'express-500',
    stack: 'Express',
    kind: 'crash',
    status: { min: 500, max: 599 },
    body: /<title>Error<\/title>[\s\S]*<pre>/i,
    answers:
      'HTTP 500 "<title>Error</title> … <pre>Internal Server Error</pre>" (finalhandler; the stack in development)',
    cause: "the notify route threw (or called next(err)) and Express's default error handler answered.",
    fix: "The stack is on the server's stderr: fix the route.",
    source: 'https://github.com/pillarjs/finalhandler/blob/master/index.js',
    recordedFrom: 'Express 5 (devDependency), test/fixtures/stacks/express-app.ts',
  },

  // ── Gateways answering for the application ──────────────────────────────────────────────────────
  {
    id: 'gateway-5xx',
    stack: 'the reverse proxy or load balancer',
    kind: 'gateway',
    status: [502, 503, 504],
    body: /<center>\s*(nginx|openresty|tengine)[^<]*<\/center>|Bad Gateway|Gateway Time-?out|Service (Temporarily )?Unavailable|Proxy Error/i,
    answers: 'HTTP 502 "Bad Gateway" / 504 "Gateway Time-out" / 503 page signed nginx, openresty or Tengine',
    cause:
      'the proxy in front answered because the application behind it is down, unreachable from it, or slower than its timeout.',
    fix: 'Check that the application runs and the proxy points at it (upstream / proxy_pass address and port); answer within 5 s.',
    source:
      'https://github.com/nginx/nginx/blob/master/src/http/ngx_http_special_response.c (ngx_http_error_502_page, 504)',
  },
  {
    id: 'nginx-deny',
    stack: 'nginx (deny rule)',
    kind: 'waf',
    status: [403],
    body: /<title>403 Forbidden<\/title>[\s\S]*<center>\s*(nginx|openresty|tengine)/i,
    answers: 'HTTP 403 "<title>403 Forbidden</title> … <center>nginx</center>"',
    cause:
      'nginx refused the request itself (a `deny` / `allow` rule, a blocked method or a missing index) before it reached the application.',
    fix: "Find the `deny`/`allow` or `limit_except` for this location in the nginx config and let POST to the notify path through to the application (proxy_pass / fastcgi_pass); WeChat Pay's addresses change, so do not allow-list them by IP.",
    source:
      'https://github.com/nginx/nginx/blob/master/src/http/ngx_http_special_response.c (ngx_http_error_403_page); https://nginx.org/en/docs/http/ngx_http_access_module.html',
  },
  {
    id: 'crash-html',
    stack: "the handler's framework",
    kind: 'crash',
    status: [500, 501, 505],
    body: HTML_PAGE,
    answers: 'a 5xx HTML error page no entry above recognises',
    cause: "the handler crashed and the framework's error page answered (a WAF answers 4xx or 2xx, not 500).",
    fix: "The handler's log has the exception: fix it, then answer success once the notification is verified and recorded.",
    source: 'RFC 9110 §15.6.1 (500 Internal Server Error)',
  },
];

const BODY_WINDOW = 16 * 1024;

function statusMatches(f: Fingerprint, status: number): boolean {
  if (!f.status) return true;
  if ('min' in f.status) return status >= f.status.min && status <= f.status.max;
  return f.status.includes(status);
}

/** A fragment for the row, printable and short: server-chosen text never brings control characters. */
function excerpt(text: string, max = 60): string {
  const flat = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function titleOf(body: string): string | undefined {
  const m = /<title[^>]*>([^<]*)<\/title>/i.exec(body);
  const t = m?.[1] ? excerpt(m[1]) : '';
  return t || undefined;
}

/**
 * The stack that produced an answer, or undefined. `answer.headers` must have lower-case names.
 * Callers ask only about answers the judge did not take as an acknowledgement; a 2xx can still be a
 * stack's refusal (many apps wrap errors in HTTP 200 {"code":401,…}), which the body tells.
 */
export function identifyStack(answer: StackAnswer): StackMatch | undefined {
  const body = String(answer.body ?? '').slice(0, BODY_WINDOW);
  const headers = answer.headers ?? {};
  for (const f of FINGERPRINTS) {
    if (!statusMatches(f, answer.status)) continue;
    const seen: string[] = [];
    let ok = true;
    for (const [name, pattern] of Object.entries(f.headers ?? {})) {
      const value = headers[name];
      if (value === undefined || !pattern.test(value)) {
        ok = false;
        break;
      }
      seen.push(`${name}: ${excerpt(value, 50)}`);
    }
    if (!ok) continue;
    if (f.location) {
      const location = headers.location;
      if (!location || !f.location.test(location)) continue;
      seen.push(`to ${excerpt(location, 80)}`);
    }
    if (f.body) {
      const m = f.body.exec(body);
      if (!m) continue;
      const title = html.test(body) ? titleOf(body) : undefined;
      // A pattern that matched markup only (an HTML tag) says nothing: quote the page's start instead.
      const words = excerpt(m[0]) || excerpt(body);
      const overlaps = title !== undefined && (title.includes(words) || words.includes(title));
      seen.push(title ? `page "${title}"${overlaps ? '' : ` saying "${words}"`}` : `"${words}"`);
    } else if (!f.headers && !f.location) {
      const title = titleOf(body);
      const start = excerpt(body);
      if (title) seen.push(`page "${title}"`);
      else if (start) seen.push(`"${start}"`);
    }
    return {
      id: f.id,
      stack: f.stack,
      kind: f.kind,
      cause: f.cause,
      fix: f.fix,
      source: f.source,
      saw: [`HTTP ${answer.status}`, ...seen].join(', '),
    };
  }
  return undefined;
}

function whose(match: StackMatch): string {
  return match.kind === 'crash'
    ? `${match.stack} error page`
    : WALL_KINDS.has(match.kind)
      ? `${match.stack}, in front of the handler`
      : match.stack;
}

/** The words for a match, after what was seen: whose answer it is, why, and the fix for that stack. */
export function stackHint(match: StackMatch): string {
  return `${whose(match)}: ${match.cause} Fix: ${match.fix}`;
}

/** The same for a table row, which a terminal cuts: the fix before the reason. */
export function stackRowHint(match: StackMatch): string {
  return `${whose(match)}. Fix: ${match.fix} Why: ${match.cause}`;
}

/** What was seen, without the status (for text that already states it). */
export function sawWithoutStatus(match: StackMatch): string {
  return match.saw.replace(/^HTTP \d+(, )?/, '');
}
