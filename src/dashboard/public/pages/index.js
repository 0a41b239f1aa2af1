import { customers } from './customers.js';
import { overview } from './overview.js';
import { agents } from './agents.js';
import { alerts, findings, incidents } from './triage.js';
import { audit, evidence, ledger, scans } from './records.js';

/** Every page: title and render(ctx) → optional {onLive(kind, change)}. */
export const PAGES = { customers, overview, agents, alerts, incidents, findings, scans, evidence, audit, ledger };
