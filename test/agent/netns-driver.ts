/**
 * Runs inside a network namespace the isolation test made (`ip netns exec <ns> node --import tsx
 * netns-driver.ts`): reads JSON commands on stdin, one a line, and answers each with one JSON line
 * `{id, …}`. It opens and keeps TCP connections, listens, echoes, and runs the agent's isolation
 * actions — all inside the namespace, never on the machine itself.
 */
import { createServer, type Socket, connect } from 'node:net';
import { createInterface } from 'node:readline';
import { isolateHost, isolationState, releaseHost } from '../../src/agent/mod.ts';

type Command =
  | { id: number; op: 'echo-server'; host: string; ports: number[] }
  | { id: number; op: 'connect'; host: string; port: number; timeoutMs: number }
  | { id: number; op: 'send'; conn: number; data: string; timeoutMs: number }
  | { id: number; op: 'isolate'; ingressHost: string; ingressPort: number }
  | { id: number; op: 'release' }
  | { id: number; op: 'state' };

const conns = new Map<number, Socket>();
let nextConn = 1;

function reply(msg: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

async function handle(c: Command): Promise<Record<string, unknown>> {
  switch (c.op) {
    case 'echo-server': {
      for (const port of c.ports) {
        const s = createServer((sock) => {
          sock.on('error', () => undefined);
          sock.pipe(sock);
        });
        await new Promise<void>((res) => s.listen(port, c.host, res));
      }
      return { ok: true };
    }
    case 'connect':
      return await new Promise((res) => {
        const sock = connect({ host: c.host, port: c.port });
        const timer = setTimeout(() => {
          sock.destroy();
          res({ ok: false, error: 'TIMEOUT' });
        }, c.timeoutMs);
        sock.once('connect', () => {
          clearTimeout(timer);
          const id = nextConn++;
          conns.set(id, sock);
          sock.on('error', () => undefined);
          res({ ok: true, conn: id });
        });
        sock.once('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          res({ ok: false, error: err.code ?? String(err) });
        });
      });
    case 'send': {
      const sock = conns.get(c.conn);
      if (!sock || sock.destroyed) return { ok: false, error: 'CLOSED' };
      return await new Promise((res) => {
        let got = '';
        const done = (r: Record<string, unknown>): void => {
          clearTimeout(timer);
          sock.off('data', onData);
          sock.off('error', onError);
          sock.off('close', onClose);
          res(r);
        };
        const onData = (b: Buffer): void => {
          got += b.toString();
          if (got.length >= c.data.length) done({ ok: true, echo: got });
        };
        const onError = (err: NodeJS.ErrnoException): void => done({ ok: false, error: err.code ?? String(err) });
        const onClose = (): void => done({ ok: false, error: 'CLOSED' });
        const timer = setTimeout(() => done({ ok: false, error: 'TIMEOUT' }), c.timeoutMs);
        sock.on('data', onData);
        sock.once('error', onError);
        sock.once('close', onClose);
        sock.write(c.data);
      });
    }
    case 'isolate':
      return { result: await isolateHost({ ingressHost: c.ingressHost, ingressPort: c.ingressPort }) };
    case 'release':
      return { result: await releaseHost() };
    case 'state':
      return { state: await isolationState() };
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const c = JSON.parse(line) as Command;
  handle(c).then(
    (r) => reply({ id: c.id, ...r }),
    (err: unknown) => reply({ id: c.id, ok: false, error: String(err) }),
  );
});
rl.on('close', () => process.exit(0));
reply({ id: 0, ready: true });
