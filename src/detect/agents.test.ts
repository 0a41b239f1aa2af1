import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentEvents } from '../../commands/agents/events.ts';
import type { EventEnvelope } from '../domain/events.ts';
import { type AgentBook, bookFromJson, bookToJson, type Derived, observeAgent, tickAgents } from './agents.ts';

const test = suite('agent health from agent events and ticks');
const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const MIN = 60_000;
let v = 0;

function ev(type: string, data: unknown, atMs: number): EventEnvelope {
  return {
    id: `e${++v}`,
    type,
    tenant: 't',
    aggregate: { type: 'agent', id: 'a1' },
    version: v,
    at: new Date(atMs).toISOString(),
    actor: { kind: 'agent', id: 'a1' },
    causationId: null,
    correlationId: null,
    schema: 1,
    data,
  };
}

const enrolled = (atMs: number, notAfter = '2027-01-01T00:00:00.000Z') =>
  ev(AgentEvents.enrolled, { hostname: 'h1', os: 'linux', agentVersion: '1.2.0', certFingerprint: 'ab'.repeat(32), certNotAfter: notAfter }, atMs);
const beat = (atMs: number, h: object = {}) => ev(AgentEvents.heartbeat, { inventory: null, ...h }, atMs);
const events = (d: Derived[]) => d.map((x) => [(x.item as { event?: string }).event ?? x.item.kind, x.seq]);

test('a start after a start with no clean stop is unexpected; after a clean stop it is not', () => {
  const book: AgentBook = new Map();
  observeAgent(book, 't', 'a1', [enrolled(T0)], 1);
  assert.equal(events(observeAgent(book, 't', 'a1', [beat(T0 + 1, { agentStartedAt: 'S1' })], 2)), [['started', 2]]);
  assert.equal(events(observeAgent(book, 't', 'a1', [beat(T0 + 2, { agentStartedAt: 'S1' })], 3)), [], 'same start: nothing');
  assert.equal(events(observeAgent(book, 't', 'a1', [beat(T0 + 3, { agentStartedAt: 'S2' })], 4)), [
    ['restarted_unexpectedly', 4],
    ['started', 4],
  ]);
  assert.equal(events(observeAgent(book, 't', 'a1', [beat(T0 + 4, { stopping: true })], 5)), [['stopped', 5]]);
  assert.equal(events(observeAgent(book, 't', 'a1', [beat(T0 + 5, { agentStartedAt: 'S3' })], 6)), [['started', 6]]);
});

test('clock skew is the agent time minus the event time, in whole seconds', () => {
  const book: AgentBook = new Map();
  observeAgent(book, 't', 'a1', [enrolled(T0)], 1);
  const [d] = observeAgent(book, 't', 'a1', [beat(T0, { agentTime: new Date(T0 - 301_400).toISOString() })], 2);
  assert.equal(d!.item, { kind: 'agent-health', event: 'clock_skew', skewSeconds: -301, agentVersion: '1.2.0' });
  assert.equal(observeAgent(book, 't', 'a1', [beat(T0, { agentTime: 'not a time' })], 3), []);
});

test('silence once per gap, resting on the last heartbeat; back after silence with how long it was', () => {
  const book: AgentBook = new Map();
  observeAgent(book, 't', 'a1', [enrolled(T0)], 1);
  observeAgent(book, 't', 'a1', [beat(T0 + MIN)], 7);
  assert.equal(
    tickAgents(book, T0 + 10 * MIN, 10 * MIN).map((d) => d.item.kind),
    ['certificate'],
    'not yet: 9 minutes',
  );
  const silent = tickAgents(book, T0 + 11 * MIN, 10 * MIN);
  assert.equal(events(silent), [['silent', 7]]);
  assert.is((silent[0]!.item as { silentSeconds: number }).silentSeconds, 600);
  assert.equal(tickAgents(book, T0 + 12 * MIN, 10 * MIN), [], 'once per gap');
  const back = observeAgent(book, 't', 'a1', [beat(T0 + 31 * MIN)], 9);
  assert.equal(events(back), [['resumed', 9]]);
  assert.is((back[0]!.item as { silentSeconds: number }).silentSeconds, 1800);
  // A late heartbeat batch (written after a newer one) does not move last-seen back.
  observeAgent(book, 't', 'a1', [beat(T0 + 20 * MIN)], 10);
  assert.equal(tickAgents(book, T0 + 40 * MIN, 10 * MIN), []);
});

test('a revoked agent is never silent; a certificate is looked at again only when its days to expiry change', () => {
  const book: AgentBook = new Map();
  observeAgent(book, 't', 'a1', [enrolled(T0, new Date(T0 + 10.5 * 86_400_000).toISOString())], 1);
  const first = tickAgents(book, T0, 3 * 86_400_000);
  assert.equal(
    first.map((d) => [(d.item as { daysToExpiry: number }).daysToExpiry, d.seq]),
    [[10, 1]],
  );
  assert.equal(tickAgents(book, T0 + 3600_000, 3 * 86_400_000), [], 'same day count');
  observeAgent(book, 't', 'a1', [ev(AgentEvents.revoked, { reason: 'x' }, T0)], 2);
  assert.equal(tickAgents(book, T0 + 4 * 86_400_000, 3 * 86_400_000), []);
});

test('the book survives a checkpoint as JSON', () => {
  const book: AgentBook = new Map();
  observeAgent(book, 't', 'a1', [enrolled(T0), beat(T0 + 5, { agentStartedAt: 'S1' })], 3);
  const again = bookFromJson(JSON.parse(JSON.stringify(bookToJson(book))));
  assert.equal(events(observeAgent(again, 't', 'a1', [beat(T0 + 9, { agentStartedAt: 'S2' })], 4)), [
    ['restarted_unexpectedly', 4],
    ['started', 4],
  ]);
});

test.run();
