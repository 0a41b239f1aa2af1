import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Agent, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { call } from '../src/agent/client.ts';
import { TLS_SESSION_TIMEOUT_S, KEEP_ALIVE_TIMEOUT_MS } from '../src/ingress/app.ts';
import { createAgentKeyAndCsr } from '../src/pki/agent-key.ts';
import { createTenant } from '../test/ingress/fixture.ts';
import { ingressOnNats, report } from './util.ts';

const IDENTITIES = 400;
const CONNECTIONS = 2_000;
const GAP_MS = 6_000;
const MEASURE_MS = 20_000;

/**
 * `npm run bench -- edge`: what one agent request costs the ingress process when requests come
 * the way a fleet sends them — 2,000 keep-alive mTLS connections, each with a request every 6 s
 * (about 330 a second), never two at once on one connection — against a bare `node:https` server
 * with the ingress's TLS settings answering a small JSON body on the same traffic: the floor any
 * HTTPS agent protocol on Node.js pays per request on this machine. CPU of this process (the
 * ingress, or the bare server) per request; the clients run in a child process.
 */
export async function benchEdge(): Promise<void> {
  const bench = await ingressOnNats('stk-bench-edge-');
  const { log, ingress, dir } = bench;
  const caPem = ingress.ca.certificatePem;
  const serverTls = await ingress.ca.issueServerCertificate(['127.0.0.1']);
  // The bare server: the ingress's TLS settings, the peer certificate read once per connection.
  const bare = createServer(
    {
      ca: [caPem],
      cert: serverTls.certPem,
      key: serverTls.keyPem,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      sessionTimeout: TLS_SESSION_TIMEOUT_S,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    },
    (req, res) => {
      const socket = req.socket as TLSSocket & { peer?: unknown };
      socket.peer ??= socket.getPeerCertificate();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"commands":[]}');
    },
  );
  try {
    const { secret } = await createTenant(log, ['edr']);
    const anon = new Agent({ ca: caPem, keepAlive: true, maxSockets: 16 });
    const identities = await Promise.all(
      Array.from({ length: IDENTITIES }, async (_, i) => {
        const k = await createAgentKeyAndCsr('ec-P-256');
        const r = await call(anon, ingress.url, 'POST', '/agent/v1/enroll', {
          secret,
          csr: k.csrPem,
          hostname: `edge-${i}`,
          os: 'linux',
          agentVersion: 'bench',
        });
        if (r.status !== 201) throw new Error(`enroll answered ${r.status}`);
        return { agentId: r.body.agentId as string, certPem: r.body.certificate as string, keyPem: k.keyPem };
      }),
    );
    anon.destroy();
    await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
    const bareUrl = `https://127.0.0.1:${(bare.address() as AddressInfo).port}`;
    const run = async (url: string, route: 'report' | 'poll' | 'bare'): Promise<number> => {
      const file = join(dir, `client-${route}.json`);
      await writeFile(file, JSON.stringify({ url, caPem, identities, route, connections: CONNECTIONS, gapMs: GAP_MS, ms: MEASURE_MS }));
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'edge-client.ts'), file], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      const ready = new Promise<void>((resolve) =>
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('ready\n')) resolve();
        }),
      );
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      await ready;
      const c0 = process.cpuUsage();
      child.stdin.write('go\n');
      await exited;
      const c = process.cpuUsage(c0);
      const r = JSON.parse(
        out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .pop() ?? '{}',
      ) as { done?: number; bad?: number };
      if (!r.done || r.bad) throw new Error(`the ${route} clients ended with ${r.done ?? 0} requests, ${r.bad ?? '?'} refused or failed`);
      return (c.user + c.system) / r.done;
    };
    const floor = await run(bareUrl, 'bare');
    const poll = await run(ingress.url, 'poll');
    const rep = await run(ingress.url, 'report');
    console.log(
      `  ${CONNECTIONS} connections (${IDENTITIES} enrolled identities), one request each every ${GAP_MS / 1000} s: about ${Math.round(CONNECTIONS / (GAP_MS / 1000))} requests/s; ${MEASURE_MS / 1000} s each`,
    );
    report('bare node:https server, CPU per request', floor, 'µs');
    report('ingress, GET /agent/v1/commands (answered at once)', poll, 'µs', { label: 'bare https', value: floor });
    report('ingress, POST /agent/v1/report (one heartbeat)', rep, 'µs', { label: 'bare https', value: floor });
  } finally {
    bare.close();
    await bench.close();
  }
}
