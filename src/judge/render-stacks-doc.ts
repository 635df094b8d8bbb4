import { FINGERPRINTS, type Fingerprint, type StackKind } from './fingerprints.js';

/**
 * docs/stacks.md, generated from the fingerprint table (`npm run docs` writes it; a test checks
 * the file is what this returns), so the list a merchant reads is the list the judge uses.
 */

const SECTIONS: ReadonlyArray<{ kinds: StackKind[]; title: string; intro: string }> = [
  {
    kinds: ['waf'],
    title: 'Cloud WAFs, CDNs and hosting panels',
    intro: 'They answer in front of your server, the same page to every request they block.',
  },
  {
    kinds: ['csrf'],
    title: 'CSRF protection',
    intro:
      'On by default for POST in most web frameworks; WeChat Pay sends no token. The notification is authenticated by its signature instead.',
  },
  {
    kinds: ['auth', 'login'],
    title: 'Authentication filters and login walls',
    intro: 'WeChat Pay sends no credentials and follows no redirect.',
  },
  {
    kinds: ['method', 'body-unread'],
    title: 'A route without POST, or a body nobody reads',
    intro: 'The route is there, but the handler never gets the notification to check.',
  },
  {
    kinds: ['crash'],
    title: 'Crash pages',
    intro:
      "The handler threw and the framework's error page answered: the exception is in the handler's log. A WAF does not answer 500.",
  },
  {
    kinds: ['gateway'],
    title: 'Gateways',
    intro: 'The proxy in front answered for an application that is down, unreachable or too slow.',
  },
];

/** A table cell: one line, no pipe that would end the cell. */
const cell = (text: string): string => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();

function row(entries: readonly Fingerprint[]): string {
  const f = entries[0]!;
  const checked = entries.map((e) => e.recordedFrom).find(Boolean);
  const answers = entries.map((e) => cell(e.answers)).join('; or ');
  const sources = [...new Set(entries.map((e) => cell(e.source)))].join('; ');
  return `| ${cell(f.stack)} | ${answers} | ${cell(f.cause)} | ${cell(f.fix)} | ${sources} (${checked ? `run here: ${cell(checked)}` : 'from the source'}) |`;
}

/** One row per stack: a stack recognised by several shapes (a header, or its page) is one line. */
function byStack(entries: readonly Fingerprint[]): Fingerprint[][] {
  const groups = new Map<string, Fingerprint[]>();
  for (const f of entries) groups.set(f.stack, [...(groups.get(f.stack) ?? []), f]);
  return [...groups.values()];
}

export function renderStacksDoc(): string {
  const lines = [
    '# Stacks wxpay-notify recognises',
    '',
    '<!-- Generated from src/judge/fingerprints.ts by `npm run docs`; edit the table there. -->',
    '',
    "When something other than your notify handler answers a notification (a WAF, CSRF middleware, a login wall, a framework's error page, a gateway), `wxpay-notify run` names it on the failing rows and in the note above the table, and `wxpay-notify doctor` names it on the probe line, each with the fix for that stack. This page lists every stack it recognises, what that stack answers, why it refuses the notification and how to fix it.",
    '',
    'How the evidence is read:',
    '',
    '- A row says what it saw (status, page title, the words or header that matched) before it names a stack.',
    "- A 5xx error page is a crash of the handler (its log has the exception), not a wall, and counts as a refusal in the run's notes.",
    "- The same answer to genuine and forged notifications means nothing behind the wall looked at them: the note names the wall. A page that differs between genuine and forged notifications is the handler's own.",
    '- Forged notifications refused differently from genuine ones mean the signature check passed: the note then points at what comes after it (for v3, decryption with the APIv3 key, APIv3密钥).',
    '- An HTTP 200 that is a wall\'s refusal (e.g. Sa-Token\'s `{"code":401}` in a 200) fails: WeChat Pay would count it as received and never retry.',
    '- When the answers cannot separate two causes, the note lists them ranked, with the observation that tells them apart.',
    '- `doctor` fails (exit 1) when a wall answers its probe, since the wall refuses every POST; a crash page to its junk probe is a warning.',
    '',
    'An answer no entry matches keeps the general cause (an HTML page, a 4xx, a 5xx). Stacks marked "run here" are run by the tests with their defaults; the others are checked against the answer bytes taken from their source.',
    '',
  ];
  for (const section of SECTIONS) {
    const entries = FINGERPRINTS.filter((f) => section.kinds.includes(f.kind));
    if (entries.length === 0) continue;
    lines.push(
      `## ${section.title}`,
      '',
      section.intro,
      '',
      '| Stack | What it answers | Why the notification is refused | Fix | Source |',
      '|---|---|---|---|---|',
      ...byStack(entries).map(row),
      '',
    );
  }
  return lines.join('\n');
}
