import type { Upcaster } from '../src/log/upcast.ts';
import { telemetryUpcasters } from './telemetry/events.ts';

/** Every payload upcaster of the domains: an `EventLog` lifts old payloads with these unless told otherwise. */
export const PAYLOAD_UPCASTERS: readonly Upcaster[] = [...telemetryUpcasters];
