import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentEvents } from '../../commands/agents/events.ts';
import type { EventEnvelope } from '../domain/events.ts';
import { AgentBook, type Derived } from './agents.ts';

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
  const book = new AgentBook(10 * MIN);
  book.observe('t', 'a1', [enrolled(T0)], 1);
  assert.equal(events(book.observe('t', 'a1', [beat(T0 + 1, { agentStartedAt: 'S1' })], 2)), [['started', 2]]);
  assert.equal(events(book.observe('t', 'a1', [beat(T0 + 2, { agentStartedAt: 'S1' })], 3)), [], 'same start: nothing');
  assert.equal(events(book.observe('t', 'a1', [beat(T0 + 3, { agentStartedAt: 'S2' })], 4)), [
    ['restarted_unexpectedly', 4],
    ['started', 4],
  ]);
  assert.equal(events(book.observe('t', 'a1', [beat(T0 + 4, { stopping: true })], 5)), [['stopped', 5]]);
  assert.equal(events(book.observe('t', 'a1', [beat(T0 + 5, { agentStartedAt: 'S3' })], 6)), [['started', 6]]);
});

test('clock skew is the agent time minus the event time, in whole seconds', () => {
  const book = new AgentBook(10 * MIN);
  book.observe('t', 'a1', [enrolled(T0)], 1);
  const [d] = book.observe('t', 'a1', [beat(T0, { agentTime: new Date(T0 - 301_400).toISOString() })], 2);
  assert.equal(d!.item, { kind: 'agent-health', event: 'clock_skew', skewSeconds: -301, agentVersion: '1.2.0' });
  assert.equal(book.observe('t', 'a1', [beat(T0, { agentTime: 'not a time' })], 3), []);
});

test('silence once per gap, resting on the last heartbeat; back after silence with how long it was', () => {
  const book = new AgentBook(10 * MIN);
  book.observe('t', 'a1', [enrolled(T0)], 1);
  book.observe('t', 'a1', [beat(T0 + MIN)], 7);
  assert.equal(
    book.tick(T0 + 10 * MIN).map((d) => d.item.kind),
    ['certificate'],
    'not yet: 9 minutes',
  );
  const silent = book.tick(T0 + 11 * MIN);
  assert.equal(events(silent), [['silent', 7]]);
  assert.is((silent[0]!.item as { silentSeconds: number }).silentSeconds, 600);
  assert.equal(book.tick(T0 + 12 * MIN), [], 'once per gap');
  const back = book.observe('t', 'a1', [beat(T0 + 31 * MIN)], 9);
  assert.equal(events(back), [['resumed', 9]]);
  assert.is((back[0]!.item as { silentSeconds: number }).silentSeconds, 1800);
  // A late heartbeat batch (written after a newer one) does not move last-seen back.
  book.observe('t', 'a1', [beat(T0 + 20 * MIN)], 10);
  assert.equal(book.tick(T0 + 40 * MIN), []);
});

test('a revoked agent is never silent; a certificate is looked at again only when its days to expiry change', () => {
  const book = new AgentBook(3 * 86_400_000);
  book.observe('t', 'a1', [enrolled(T0, new Date(T0 + 10.5 * 86_400_000).toISOString())], 1);
  const first = book.tick(T0);
  assert.equal(
    first.map((d) => [(d.item as { daysToExpiry: number }).daysToExpiry, d.seq]),
    [[10, 1]],
  );
  assert.equal(book.tick(T0 + 3600_000), [], 'same day count');
  book.observe('t', 'a1', [ev(AgentEvents.revoked, { reason: 'x' }, T0)], 2);
  assert.equal(book.tick(T0 + 4 * 86_400_000), []);
});

test('a silent agent that comes back is silent again after the next gap; a renewed certificate is counted at the next tick', () => {
  const book = new AgentBook(10 * MIN);
  book.observe('t', 'a1', [enrolled(T0)], 1);
  assert.equal(events(book.tick(T0)), [['certificate', 1]]);
  assert.equal(events(book.tick(T0 + 11 * MIN)), [['silent', 1]]);
  assert.equal(events(book.observe('t', 'a1', [beat(T0 + 20 * MIN)], 2)), [['resumed', 2]]);
  assert.equal(book.tick(T0 + 29 * MIN), []);
  assert.equal(events(book.tick(T0 + 31 * MIN)), [['silent', 2]], 'due again though its certificate is not due for days');
  const renewed = ev(AgentEvents.certificateRenewed, { certFingerprint: 'cd'.repeat(32), certNotAfter: '2026-03-20T00:00:00.000Z' }, T0 + 32 * MIN);
  assert.equal(events(book.observe('t', 'a1', [renewed], 3)), [['resumed', 3]]);
  const ticked = book.tick(T0 + 33 * MIN);
  assert.equal(
    ticked.map((d) => [d.item.kind, d.seq, (d.item as { daysToExpiry?: number }).daysToExpiry]),
    [['certificate', 3, 18]],
  );
});

test('a tick looks only at the agents that are due: a fleet heard from on time costs a tick nothing', () => {
  const book = new AgentBook(10 * MIN);
  const ids = Array.from({ length: 2000 }, (_, i) => `a${i}`);
  const on = (id: string, e: EventEnvelope): EventEnvelope[] => [{ ...e, tenant: id.endsWith('0') ? 'u' : 't', aggregate: { type: 'agent', id } }];
  const tenantOf = (id: string) => (id.endsWith('0') ? 'u' : 't');
  for (const [i, id] of ids.entries()) book.observe(tenantOf(id), id, on(id, enrolled(T0)), i + 1);
  assert.is(book.tick(T0).length, ids.length, 'each new certificate counted once');
  assert.is(book.lastTickLooked, ids.length);
  for (const [i, id] of ids.entries()) book.observe(tenantOf(id), id, on(id, beat(T0 + 5 * MIN)), 5000 + i);
  for (const at of [1, 6, 9]) {
    assert.equal(book.tick(T0 + at * MIN), []);
    assert.is(book.lastTickLooked, 0, `minute ${at}: nothing due`);
  }
  // Each agent is looked at once when the silence it was queued for would have begun, then queued again.
  assert.equal(book.tick(T0 + 11 * MIN), []);
  assert.is(book.lastTickLooked, ids.length);
  assert.equal(book.tick(T0 + 12 * MIN), []);
  assert.is(book.lastTickLooked, 0);
  // Half are heard from again; the other half fall silent, each once.
  const heard = ids.filter((_, i) => i % 2 === 0);
  for (const [i, id] of heard.entries()) book.observe(tenantOf(id), id, on(id, beat(T0 + 14 * MIN)), 9000 + i);
  const silent = book.tick(T0 + 16 * MIN);
  assert.equal(silent.map((d) => d.agentId).sort(), ids.filter((_, i) => i % 2 === 1).sort());
  assert.ok(silent.every((d) => (d.item as { event?: string }).event === 'silent' && d.tenant === tenantOf(d.agentId)));
  assert.equal(book.tick(T0 + 17 * MIN), []);
  assert.is(book.lastTickLooked, 0);
});

test('the book survives a checkpoint as JSON', () => {
  const book = new AgentBook(10 * MIN);
  book.observe('t', 'a1', [enrolled(T0), beat(T0 + 5, { agentStartedAt: 'S1' })], 3);
  const again = AgentBook.fromJson(JSON.parse(JSON.stringify(book.toJson())), 10 * MIN);
  assert.equal(events(again.observe('t', 'a1', [beat(T0 + 9, { agentStartedAt: 'S2' })], 4)), [
    ['restarted_unexpectedly', 4],
    ['started', 4],
  ]);
});

test.run();
