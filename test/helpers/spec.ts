import * as assert from 'uvu/assert';
import type { Decider } from '../../src/domain/decider.ts';
import type { EventEnvelope } from '../../src/log/mod.ts';
import type { ErrorCode } from '../../src/errors.ts';

let seq = 0;

/** An envelope for a given-event: only type and data matter to a decider. */
export function ev(type: string, data: unknown = {}): EventEnvelope {
  seq++;
  return {
    id: `e${seq}`,
    type,
    tenant: 't',
    aggregate: { type: 'x', id: 'a' },
    version: seq,
    at: '2026-01-01T00:00:00.000Z',
    actor: { kind: 'system', id: 'test' },
    causationId: null,
    correlationId: null,
    schema: 1,
    data,
  };
}

/**
 * Given/when/then for deciders: `spec(decider).given(events).when(command)` then either
 * `.then(types, data?)` (the events decided) or `.refused(code)`.
 */
export function spec<S, C>(decider: Decider<S, C>) {
  return {
    given(events: EventEnvelope[]) {
      const state = events.reduce((s, e) => decider.evolve(s, e), decider.initialState());
      return {
        when(command: C) {
          const d = decider.decide(command, state);
          return {
            then(types: string[], data?: unknown[]) {
              assert.ok(d.ok, d.ok ? '' : `refused: ${d.error.code} ${d.error.message}`);
              if (!d.ok) return;
              assert.equal(
                d.events.map((e) => e.type),
                types,
              );
              if (data)
                assert.equal(
                  d.events.map((e) => e.data),
                  data,
                );
            },
            refused(code: ErrorCode) {
              assert.not.ok(d.ok, 'expected a refusal');
              if (!d.ok) assert.is(d.error.code, code);
            },
          };
        },
      };
    },
  };
}
