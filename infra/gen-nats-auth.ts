/** Regenerates infra/nats/ledger-auth.conf from src/nats/auth.ts: `node --import tsx infra/gen-nats-auth.ts`. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ledgerAuthConfig } from '../src/nats/auth.ts';

await writeFile(resolve(import.meta.dirname, 'nats/ledger-auth.conf'), ledgerAuthConfig());
