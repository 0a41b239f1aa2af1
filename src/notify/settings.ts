import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { SEVERITIES, type Severity } from '../../commands/alerts/events.ts';
import { StkError } from '../errors.ts';

export { SEVERITIES, type Severity };

/** The kinds of notification channel a tenant can configure. */
export const CHANNEL_KINDS = ['webhook', 'email', 'chat'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Group updates are sent when an alert group's count reaches one of these (1 = the first occurrence). */
export const DEFAULT_THRESHOLDS: readonly number[] = [1, 10, 100, 1000];

export interface WebhookSettings {
  /** https anywhere; http only to a loopback literal, and only where the install allows it (tests). */
  url: string;
  /** HMAC-SHA256 key of the `Stockade-Signature` header. */
  secret: string;
}
export interface EmailSettings {
  host: string;
  port: number;
  /** Only STARTTLS-required submission is offered: nothing is ever sent in clear. */
  startTls: 'required';
  user: string;
  password: string;
  from: string;
  to: string[];
}
export interface ChatSettings {
  /** A Slack-compatible incoming-webhook URL; whoever knows it can post, so it is a secret. */
  url: string;
}

/** One quiet window, in the wall-clock time of the routing's time zone. `days` are the days the window starts on. */
export interface QuietWindow {
  days: Weekday[];
  /** `HH:MM`, 00:00–23:59. */
  start: string;
  /** `HH:MM`, 00:01–24:00; at or before `start` means the window runs past midnight. */
  end: string;
}
export interface QuietHours {
  /** An IANA time zone, e.g. `Europe/Berlin`. */
  timeZone: string;
  windows: QuietWindow[];
}
export interface Routing {
  minSeverity: Severity;
  quietHours: QuietHours | null;
  /** Strictly increasing counts ≥ 1 at which a group update is sent. */
  thresholds: number[];
}

interface ChannelBase {
  name: string;
  enabled: boolean;
  routing: Routing;
}
/** A channel's settings with its secrets in clear: what the transports use, never what is stored or shown. */
export type ChannelConfig =
  | (ChannelBase & { kind: 'webhook'; settings: WebhookSettings })
  | (ChannelBase & { kind: 'email'; settings: EmailSettings })
  | (ChannelBase & { kind: 'chat'; settings: ChatSettings });

const NO_CONTROL = '^[^\\u0000-\\u001f\\u007f]+$';
// Deliberately narrower than RFC 5322: no spaces, quotes, angle brackets, commas or line breaks,
// so an address can never smuggle a second recipient or a header into the message.
const MAILBOX = "^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$";
const HHMM = '^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$';
const url = { type: 'string', minLength: 8, maxLength: 2048, pattern: '^https?://' };
const mailbox = { type: 'string', maxLength: 254, pattern: MAILBOX };

export const WEBHOOK_SETTINGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url,
    secret: { type: 'string', minLength: 32, maxLength: 256, pattern: '^[\\x21-\\x7e]+$', description: 'Omit to have one generated (shown once).' },
  },
} as const;

export const EMAIL_SETTINGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port', 'startTls', 'user', 'password', 'from', 'to'],
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:-]+$' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    startTls: { type: 'string', enum: ['required'] },
    user: { type: 'string', minLength: 1, maxLength: 256, pattern: NO_CONTROL },
    password: { type: 'string', minLength: 1, maxLength: 1024, pattern: NO_CONTROL },
    from: mailbox,
    to: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: mailbox },
  },
} as const;

export const CHAT_SETTINGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: { url },
} as const;

export const ROUTING_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    minSeverity: { type: 'string', enum: [...SEVERITIES] },
    quietHours: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['timeZone', 'windows'],
      properties: {
        timeZone: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_+/-]+$' },
        windows: {
          type: 'array',
          minItems: 1,
          maxItems: 14,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['days', 'start', 'end'],
            properties: {
              days: { type: 'array', minItems: 1, maxItems: 7, uniqueItems: true, items: { type: 'string', enum: [...WEEKDAYS] } },
              start: { type: 'string', pattern: HHMM },
              end: { type: 'string', pattern: HHMM },
            },
          },
        },
      },
    },
    thresholds: { type: 'array', minItems: 1, maxItems: 20, items: { type: 'integer', minimum: 1, maximum: 1_000_000_000 } },
  },
} as const;

const base = (kind: ChannelKind, settings: object) => ({
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'name', 'settings'],
  properties: {
    kind: { type: 'string', enum: [kind] },
    name: { type: 'string', minLength: 1, maxLength: 100, pattern: NO_CONTROL },
    enabled: { type: 'boolean' },
    settings,
    routing: ROUTING_SCHEMA,
  },
});

/** Body schema of "create or replace a channel" (fastify/ajv); `parseChannelInput` adds the checks a schema cannot express. */
export const CHANNEL_INPUT_SCHEMA = {
  oneOf: [base('webhook', WEBHOOK_SETTINGS_SCHEMA), base('email', EMAIL_SETTINGS_SCHEMA), base('chat', CHAT_SETTINGS_SCHEMA)],
} as const;

/** Install-wide choices that change what a tenant may configure. */
export interface ChannelPolicy {
  /**
   * Accept `http://` URLs whose host is a loopback literal (127.0.0.0/8, ::1, localhost). Off by
   * default: it exists for tests and local development, where a receiver without TLS runs beside
   * the install; in production a tenant could otherwise aim unsigned-transport posts at the
   * install's own loopback services.
   */
  allowLoopbackHttp?: boolean;
}

const ajv = new Ajv({ allErrors: false, strict: true });
const validators: Record<ChannelKind, ValidateFunction> = {
  webhook: ajv.compile(base('webhook', WEBHOOK_SETTINGS_SCHEMA)),
  email: ajv.compile(base('email', EMAIL_SETTINGS_SCHEMA)),
  chat: ajv.compile(base('chat', CHAT_SETTINGS_SCHEMA)),
};

/** The result of parsing a channel: its settings, and a webhook secret generated for it (to be shown once). */
export interface ParsedChannel {
  channel: ChannelConfig;
  generatedSecret: string | null;
}

/**
 * Validates a channel as the API receives it (schema, then URL, host, time zone and threshold
 * rules) and fills the defaults. Throws STK_ERR_VALIDATION with the refused `field`.
 */
export function parseChannelInput(input: unknown, policy: ChannelPolicy = {}): ParsedChannel {
  const kind = (input as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string' || !(CHANNEL_KINDS as readonly string[]).includes(kind)) {
    throw invalid('/kind', `kind must be one of ${CHANNEL_KINDS.join(', ')}`);
  }
  const validate = validators[kind as ChannelKind];
  if (!validate(input)) throw fromAjv(validate.errors);
  const raw = input as { kind: ChannelKind; name: string; enabled?: boolean; settings: Record<string, unknown>; routing?: Partial<Routing> };
  const routing = parseRouting(raw.routing ?? {});
  const common = { name: raw.name, enabled: raw.enabled ?? true, routing };
  switch (raw.kind) {
    case 'webhook': {
      const s = raw.settings as { url: string; secret?: string };
      checkUrl(s.url, '/settings/url', policy);
      const generatedSecret = s.secret === undefined ? mintWebhookSecret() : null;
      return { channel: { ...common, kind: 'webhook', settings: { url: s.url, secret: s.secret ?? generatedSecret! } }, generatedSecret };
    }
    case 'chat': {
      const s = raw.settings as unknown as ChatSettings;
      checkUrl(s.url, '/settings/url', policy);
      return { channel: { ...common, kind: 'chat', settings: { url: s.url } }, generatedSecret: null };
    }
    case 'email': {
      const s = raw.settings as unknown as EmailSettings;
      if (isIP(s.host) === 0 && !HOSTNAME.test(s.host)) throw invalid('/settings/host', 'host must be a DNS name or an IP address');
      return { channel: { ...common, kind: 'email', settings: { ...s, to: [...s.to] } }, generatedSecret: null };
    }
  }
}

/** A fresh webhook secret: `stk_whsec_` and 256 random bits, base64url. */
export function mintWebhookSecret(): string {
  return `stk_whsec_${randomBytes(32).toString('base64url')}`;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** True when `hostname` (as `URL.hostname` gives it) names this machine's loopback interface. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

function checkUrl(value: string, field: string, policy: ChannelPolicy): void {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw invalid(field, 'not a URL');
  }
  if (u.username !== '' || u.password !== '') throw invalid(field, 'credentials in the URL are refused');
  if (u.hash !== '') throw invalid(field, 'a URL fragment is refused');
  if (u.protocol === 'https:') return;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) {
    if (policy.allowLoopbackHttp) return;
    throw invalid(field, 'http:// to loopback is allowed only when the install allows it (tests, development)');
  }
  throw invalid(field, 'the URL must be https://');
}

function parseRouting(raw: Partial<Routing>): Routing {
  const thresholds = raw.thresholds ?? [...DEFAULT_THRESHOLDS];
  for (let i = 1; i < thresholds.length; i++) {
    if (thresholds[i]! <= thresholds[i - 1]!) throw invalid(`/routing/thresholds/${i}`, 'thresholds must be strictly increasing');
  }
  const quietHours = raw.quietHours ?? null;
  if (quietHours) {
    if (!isTimeZone(quietHours.timeZone)) throw invalid('/routing/quietHours/timeZone', 'unknown time zone');
    quietHours.windows.forEach((w, i) => {
      if (w.start === '24:00') throw invalid(`/routing/quietHours/windows/${i}/start`, 'a window starts at 23:59 at the latest');
      if (w.start === w.end) throw invalid(`/routing/quietHours/windows/${i}/end`, 'a window must not be empty: end equals start');
    });
  }
  return {
    minSeverity: raw.minSeverity ?? 'medium',
    quietHours: quietHours
      ? { timeZone: quietHours.timeZone, windows: quietHours.windows.map((w) => ({ days: [...w.days], start: w.start, end: w.end })) }
      : null,
    thresholds: [...thresholds],
  };
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function invalid(field: string, message: string): StkError {
  return new StkError('STK_ERR_VALIDATION', `${field}: ${message}`, { field });
}

function fromAjv(errors: ErrorObject[] | null | undefined): StkError {
  const e = errors?.[0];
  if (!e) return invalid('/', 'invalid channel');
  const field = e.keyword === 'additionalProperties' ? `${e.instancePath}/${String(e.params.additionalProperty)}` : e.instancePath || '/';
  return invalid(field, e.message ?? 'invalid');
}
