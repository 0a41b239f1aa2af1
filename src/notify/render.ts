import { StkError } from '../errors.ts';
import { assertId } from '../ids.ts';
import { oneLine } from './outcome.ts';
import type { Severity } from './settings.ts';

/** The alert group a message is about, as the detector's read model holds it. */
export interface AlertGroup {
  tenant: string;
  alertId: string;
  ruleId: string;
  /** The rule's version: the detector's content hash, or a number for agent-reported rules. */
  ruleVersion: string | number;
  title: string;
  severity: Severity;
  /** MITRE ATT&CK technique ids, e.g. `T1059.004`. */
  attack: string[];
  /** The host's name as its agent reported it: untrusted text. */
  host: string;
  count: number;
  /** ISO 8601. */
  firstSeen: string;
  lastSeen: string;
}

/** What a message needs besides the group. */
export interface RenderContext {
  /** Names this delivery; the same on every retry, so a receiver can drop a repeat. */
  deliveryId: string;
  /** The count the channel was last told about (0: the group is new to it). */
  notifiedCount: number;
  /** Where the dashboard is reached, e.g. `https://stockade.example.com`. */
  dashboardBaseUrl: string;
}

/** Version of the webhook body; a receiver checks it before reading further. */
export const WEBHOOK_BODY_VERSION = 1;

// Caps on untrusted or rule-provided text, so one odd agent or rule cannot make a message that a
// receiver refuses (Slack refuses a section over 3,000 characters) or that buries the rest.
const MAX_TITLE = 300;
const MAX_HOST = 253;
const MAX_ATTACK = 20;
const MAX_ATTACK_ID = 20;
const MAX_RULE_ID = 200;

/** The dashboard page of one alert. */
export function alertLink(dashboardBaseUrl: string, tenant: string, alertId: string): string {
  assertId('tenant', tenant, 'tenant');
  assertId('token', alertId, 'alertId');
  let base: URL;
  try {
    base = new URL(dashboardBaseUrl);
  } catch (err) {
    throw new StkError('STK_ERR_CONFIG', 'dashboard base URL is not a URL', { field: 'dashboardBaseUrl' }, { cause: err });
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:')
    throw new StkError('STK_ERR_CONFIG', 'dashboard base URL must be http(s)', { field: 'dashboardBaseUrl' });
  const path = `${base.pathname.replace(/\/+$/, '')}/ui/t/${tenant}/alerts/${alertId}`;
  // `|` ends a Slack link's URL part; the URL parser leaves it as it is in a path.
  return `${base.origin}${path}`.replaceAll('|', '%7C');
}

/** Trims untrusted text to `max` characters and removes control characters (line breaks included). */
export function clean(text: string, max: number): string {
  const line = oneLine(text);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

interface View {
  event: 'new' | 'update';
  title: string;
  severity: Severity;
  host: string;
  rule: string;
  attack: string[];
  url: string;
}

function view(g: AlertGroup, c: RenderContext): View {
  return {
    event: c.notifiedCount === 0 ? 'new' : 'update',
    title: clean(g.title, MAX_TITLE),
    severity: g.severity,
    host: clean(g.host, MAX_HOST),
    rule: clean(g.ruleId, MAX_RULE_ID),
    attack: g.attack.slice(0, MAX_ATTACK).map((a) => clean(a, MAX_ATTACK_ID)),
    url: alertLink(c.dashboardBaseUrl, g.tenant, g.alertId),
  };
}

/** The JSON body of a webhook delivery, as the exact string that is signed and sent. */
export function renderWebhookBody(g: AlertGroup, c: RenderContext): string {
  const v = view(g, c);
  return JSON.stringify({
    type: 'stockade.alert',
    version: WEBHOOK_BODY_VERSION,
    deliveryId: c.deliveryId,
    tenant: g.tenant,
    event: v.event,
    alert: {
      id: g.alertId,
      title: v.title,
      severity: v.severity,
      rule: { id: v.rule, version: g.ruleVersion },
      attack: v.attack,
      host: v.host,
      count: g.count,
      previousCount: c.notifiedCount,
      firstSeen: g.firstSeen,
      lastSeen: g.lastSeen,
      url: v.url,
    },
  });
}

/** An e-mail message: subject, plain text and HTML. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function countPhrase(g: AlertGroup, c: RenderContext): string {
  return c.notifiedCount === 0 ? `seen ${g.count} time${g.count === 1 ? '' : 's'}` : `now seen ${g.count} times (was ${c.notifiedCount})`;
}

/** The e-mail for an alert group; every dynamic value in the HTML is escaped. */
export function renderEmail(g: AlertGroup, c: RenderContext): RenderedEmail {
  const v = view(g, c);
  const prefix = v.event === 'new' ? 'Alert' : 'Alert update';
  const subject = clean(`[Stockade] ${prefix} (${v.severity}): ${v.title} on ${v.host}`, 250);
  const rows: Array<[string, string]> = [
    ['Severity', v.severity],
    ['Host', v.host],
    ['Count', countPhrase(g, c)],
    ['First seen', g.firstSeen],
    ['Last seen', g.lastSeen],
    ['Rule', `${v.rule} v${g.ruleVersion}`],
    ['ATT&CK', v.attack.join(', ') || '—'],
    ['Tenant', g.tenant],
  ];
  const text = [`${prefix}: ${v.title}`, '', ...rows.map(([k, val]) => `${k}: ${clean(val, 400)}`), '', `Open in Stockade: ${v.url}`, ''].join('\n');
  const cell = 'style="padding:2px 12px 2px 0;text-align:left;vertical-align:top"';
  const html = [
    '<!doctype html>',
    '<html><body style="font-family:sans-serif">',
    `<h2 style="margin:0 0 12px">${escapeHtml(prefix)}: ${escapeHtml(v.title)}</h2>`,
    '<table role="presentation">',
    ...rows.map(([k, val]) => `<tr><th ${cell}>${escapeHtml(k)}</th><td ${cell}>${escapeHtml(clean(val, 400))}</td></tr>`),
    '</table>',
    `<p><a href="${escapeHtml(v.url)}">Open in Stockade</a></p>`,
    '</body></html>',
    '',
  ].join('\n');
  return { subject, text, html };
}

/** Escapes text for Slack `mrkdwn` and message text: `&`, `<` and `>`, which is all Slack's format reserves. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Slack-compatible incoming-webhook body for an alert group (blocks, with `text` as the notification fallback). */
export function renderChat(g: AlertGroup, c: RenderContext): string {
  const v = view(g, c);
  const prefix = v.event === 'new' ? 'Alert' : 'Alert update';
  const e = escapeSlack;
  const fallback = `${prefix} (${v.severity}): ${e(v.title)} on ${e(v.host)}`;
  return JSON.stringify({
    text: fallback,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${e(prefix)} (${e(v.severity)})*: ${e(v.title)}` } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Host*\n${e(v.host)}` },
          { type: 'mrkdwn', text: `*Count*\n${e(countPhrase(g, c))}` },
          { type: 'mrkdwn', text: `*Rule*\n${e(`${v.rule} v${g.ruleVersion}`)}` },
          { type: 'mrkdwn', text: `*ATT&amp;CK*\n${e(v.attack.join(', ') || '—')}` },
          { type: 'mrkdwn', text: `*First seen*\n${e(g.firstSeen)}` },
          { type: 'mrkdwn', text: `*Last seen*\n${e(g.lastSeen)}` },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Tenant ${e(g.tenant)} · <${v.url}|Open in Stockade>` }] },
    ],
  });
}
