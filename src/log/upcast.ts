import { StkError } from '../errors.ts';
import type { EventEnvelope } from './envelope.ts';

/** Turns the payload of `type` at schema `from` into the payload at schema `from + 1`. */
export interface Upcaster {
  type: string;
  from: number;
  // biome-ignore lint/suspicious/noExplicitAny: an upcaster is written for one type's old payload, which only it knows
  up: (data: any) => unknown;
}

/**
 * Upcasting on read: stored events are never rewritten; an old payload is lifted step by step to
 * the newest schema this build knows. A payload newer than any known schema is refused
 * (STK_ERR_LOG_SCHEMA_UNKNOWN) rather than misread.
 */
export class Upcasters {
  readonly #steps = new Map<string, Upcaster>();
  readonly #latest = new Map<string, number>();

  constructor(steps: Upcaster[] = []) {
    for (const s of steps) this.add(s);
  }

  add(step: Upcaster): this {
    this.#steps.set(`${step.type}@${step.from}`, step);
    this.#latest.set(step.type, Math.max(this.#latest.get(step.type) ?? 1, step.from + 1));
    return this;
  }

  /** Newest schema version known for `type` (1 when it has never changed). */
  latest(type: string): number {
    return this.#latest.get(type) ?? 1;
  }

  apply(event: EventEnvelope): EventEnvelope {
    const latest = this.latest(event.type);
    if (event.schema === latest) return event;
    if (event.schema > latest) {
      throw new StkError('STK_ERR_LOG_SCHEMA_UNKNOWN', `event ${event.id} of type ${event.type} has schema ${event.schema}, newest known is ${latest}`, {
        eventId: event.id,
        type: event.type,
        schema: event.schema,
        latest,
      });
    }
    let data = event.data;
    for (let v = event.schema; v < latest; v++) {
      const step = this.#steps.get(`${event.type}@${v}`);
      if (!step) throw new StkError('STK_ERR_LOG_SCHEMA_UNKNOWN', `no upcaster for ${event.type} from schema ${v}`, { type: event.type, schema: v });
      data = step.up(data);
    }
    return { ...event, data, schema: latest };
  }
}
