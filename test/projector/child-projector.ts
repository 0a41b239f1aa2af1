/**
 * A projector in its own process, for the crash test: prints `{"applied":N}` after each batch and
 * `{"caughtUp":N}` once it reaches STK_TARGET. The test kills it with SIGKILL mid-stream.
 */
import { Level } from 'level';
import { PROJECTIONS } from '../../projections/index.ts';
import { EventLog } from '../../src/log/mod.ts';
import { createLogger } from '../../src/logger.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { Projector } from '../../src/projector/projector.ts';

const nc = await connectNats({ servers: process.env.NATS_URL! });
const log = await EventLog.connect(nc);
const db = new Level<string, unknown>(process.env.STK_LEVEL!, { valueEncoding: 'json' });
await db.open();
const projector = await Projector.open(db, log, PROJECTIONS, {
  durableName: 'projector_crash',
  logger: createLogger({ level: 'warn' }),
  batchMax: Number(process.env.STK_BATCH ?? 50),
});
const target = Number(process.env.STK_TARGET);
console.log(JSON.stringify({ started: projector.position }));
await projector.start();
let last = -1;
for (;;) {
  const p = projector.position;
  if (p !== last) {
    last = p;
    console.log(JSON.stringify({ applied: p }));
    if (p >= target) console.log(JSON.stringify({ caughtUp: p }));
  }
  await projector.waitFor(p + 1, 1000);
}
