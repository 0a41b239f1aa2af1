/**
 * The client side of `npm run bench -- edge` (a child process, so its CPU is not the server's):
 * many keep-alive mTLS connections, each sending one request every `gapMs` (±10%) at its own
 * phase — the sparse traffic of a fleet — after every connection was opened. Reads its settings
 * from the file named by its argument; prints `ready`, waits for a line on stdin, then prints
 * `{"done":N,"bad":N}` when `ms` have passed.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

interface EdgeClientInit {
  url: string;
  caPem: string;
  identities: Array<{ agentId: string; certPem: string; keyPem: string }>;
  /** `report`: POST /agent/v1/report with one heartbeat; `poll`: GET /agent/v1/commands (no wait); `bare`: GET /. */
  route: 'report' | 'poll' | 'bare';
  connections: number;
  gapMs: number;
  ms: number;
}

const init = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as EdgeClientInit;
let done = 0;
let bad = 0;
let sent = 0;

function once(id: EdgeClientInit['identities'][number], agent: Agent): Promise<void> {
  const body =
    init.route === 'report'
      ? JSON.stringify({ agentId: id.agentId, batchId: `b${++sent}${process.pid}`, events: [{ kind: 'heartbeat', at: new Date().toISOString(), data: {} }] })
      : null;
  const path = init.route === 'report' ? '/agent/v1/report' : init.route === 'poll' ? `/agent/v1/commands?agentId=${id.agentId}` : '/';
  return new Promise((resolve) => {
    const req = request(
      `${init.url}${path}`,
      { method: body ? 'POST' : 'GET', agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
      (res) => {
        res.resume();
        res.on('end', () => {
          if ((res.statusCode ?? 500) >= 300) bad++;
          resolve();
        });
      },
    );
    req.on('error', () => {
      bad++;
      resolve();
    });
    req.end(body ?? undefined);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const conns = Array.from({ length: init.connections }, (_, k) => {
  const id = init.identities[k % init.identities.length]!;
  return { id, agent: new Agent({ ca: init.caPem, cert: id.certPem, key: id.keyPem, keepAlive: true, maxSockets: 1 }) };
});
await Promise.all(conns.map((c) => once(c.id, c.agent)));
bad = 0;
process.stdout.write('ready\n');
await new Promise((r) => process.stdin.once('data', r));
const end = Date.now() + init.ms;
await Promise.all(
  conns.map(async (c) => {
    await sleep(Math.random() * init.gapMs);
    while (Date.now() < end) {
      await once(c.id, c.agent);
      done++;
      await sleep(init.gapMs * (0.9 + 0.2 * Math.random()));
    }
  }),
);
process.stdout.write(`${JSON.stringify({ done, bad })}\n`);
process.exit(0);
