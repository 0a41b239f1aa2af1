import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { arch, cpus, hostname, platform, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { StkError } from '../errors.ts';
import { HostRoot } from '../agent/host-root.ts';
import { commandExpired, machineFingerprint } from '../agent/machine.ts';
import { AgentClient, loadAgentState, saveAgentState, type WireEvent } from './agent-client.ts';

const AGENT_VERSION = '0.1.0';

/** What the reference agent reports as inventory in its heartbeats. */
function inventory(): Record<string, unknown> {
  return {
    hostname: hostname(),
    platform: platform(),
    release: release(),
    arch: arch(),
    cpus: cpus().length,
    memoryBytes: totalmem(),
    agentVersion: AGENT_VERSION,
  };
}

/** The actions the reference agent knows; anything else is answered `failed`. */
async function runAction(action: string, args: Record<string, unknown>): Promise<{ outcome: 'succeeded' | 'failed'; output: string }> {
  switch (action) {
    case 'ping':
      return { outcome: 'succeeded', output: 'pong' };
    case 'collect-inventory':
      return { outcome: 'succeeded', output: JSON.stringify(inventory()) };
    default:
      return { outcome: 'failed', output: `the reference agent does not implement ${action} (args: ${Object.keys(args).join(', ') || 'none'})` };
  }
}

function say(fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
}

/**
 * `stockade agent enroll|report|run`: the reference agent. Its key is made here and never sent;
 * its key and certificate are kept in `--dir` with mode 0600.
 */
export function registerAgent(program: Command): void {
  const agent = program.command('agent').description('the reference agent: enroll, report events, run');

  agent
    .command('enroll')
    .description('make a key and CSR here, enroll with the ingress, save key and certificate (mode 0600)')
    .requiredOption('--url <url>', 'ingress URL, e.g. https://127.0.0.1:8443 (STOCKADE_INGRESS_URL)', process.env.STOCKADE_INGRESS_URL)
    .requiredOption('--ca <file>', "the install's CA certificate (<data>/pki/ca.crt), to trust the ingress")
    .option('--secret <secret>', 'enrollment secret (better: STOCKADE_ENROLL_SECRET, which stays out of the process list)')
    .option('--dir <dir>', 'where the agent keeps its key and certificate', './agent')
    .option('--host-root <dir>', "where the host's /etc is (for the machine id)", '/')
    .action(async (o: { url: string; ca: string; secret?: string; dir: string; hostRoot: string }) => {
      const caPem = await readFile(o.ca, 'utf8');
      const machine = await machineFingerprint(await HostRoot.open(o.hostRoot), caPem);
      const client = await AgentClient.enroll({
        url: o.url,
        caPem,
        ...(machine ? { machine } : {}),
        secret: o.secret ?? process.env.STOCKADE_ENROLL_SECRET ?? '',
        hostname: hostname().slice(0, 253) || 'unknown',
        os: `${platform()} ${release()}`.slice(0, 64),
        agentVersion: AGENT_VERSION,
      });
      await saveAgentState(resolve(o.dir), client.state);
      client.close();
      say({ msg: 'enrolled', agentId: client.agentId, dir: resolve(o.dir) });
    });

  agent
    .command('report <file>')
    .description('send the events of a JSON file ({"events": [...]} or [...]) as one batch')
    .option('--dir <dir>', 'the enrolled agent folder', './agent')
    .option('--batch-id <id>', 'batch id (a retry with the same id is a no-op)')
    .action(async (file: string, o: { dir: string; batchId?: string }) => {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { events?: WireEvent[] } | WireEvent[];
      const events = Array.isArray(parsed) ? parsed : parsed.events;
      if (!Array.isArray(events)) throw new StkError('STK_ERR_VALIDATION', `${file} holds no events`, { field: 'events' });
      const client = new AgentClient(await loadAgentState(resolve(o.dir)));
      try {
        const r = await client.report(events, o.batchId);
        say({ msg: 'reported', agentId: client.agentId, accepted: r.body.accepted, position: r.body.position });
      } finally {
        client.close();
      }
    });

  agent
    .command('run')
    .description('heartbeat on an interval, pull and run commands, post results, renew the certificate before it expires')
    .option('--dir <dir>', 'the enrolled agent folder', './agent')
    .option('--interval <seconds>', 'seconds between heartbeats and command pulls', '30')
    .action(async (o: { dir: string; interval: string }) => {
      const dir = resolve(o.dir);
      const intervalMs = Math.max(0.05, Number(o.interval)) * 1000;
      const client = new AgentClient(await loadAgentState(dir));
      const done = new Set<string>();
      let stopping = false;
      let wake: (() => void) | null = null;
      const stop = (): void => {
        stopping = true;
        wake?.();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      say({ msg: 'agent running', agentId: client.agentId, intervalMs });
      while (!stopping) {
        try {
          if (client.renewDue()) {
            await client.renew();
            await saveAgentState(dir, client.state);
            say({ msg: 'certificate renewed', agentId: client.agentId });
          }
          await client.report([{ kind: 'heartbeat', at: new Date().toISOString(), data: { inventory: inventory() } }]);
          say({ msg: 'heartbeat', agentId: client.agentId });
          for (const c of await client.commands()) {
            if (done.has(c.id)) continue;
            // Never run what expired on the way (a pull that waited, a clock ahead): the server records it as expired.
            if (commandExpired(c)) {
              done.add(c.id);
              say({ msg: 'command expired, not run', agentId: client.agentId, commandId: c.id, action: c.action, expiresAt: c.expiresAt });
              continue;
            }
            const r = await runAction(c.action, c.args);
            await client.result(c.id, r.outcome, r.output);
            done.add(c.id);
            say({ msg: 'command done', agentId: client.agentId, commandId: c.id, action: c.action, outcome: r.outcome });
          }
        } catch (err) {
          const code = err instanceof StkError ? err.code : undefined;
          say({ msg: 'agent cycle failed', agentId: client.agentId, code, error: (err as Error).message });
          // A revoked agent has nothing left to do.
          if (code === 'STK_ERR_AGENT_REVOKED') {
            process.exitCode = 3;
            break;
          }
        }
        if (stopping) break;
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, intervalMs);
        });
      }
      client.close();
      say({ msg: 'agent stopped', agentId: client.agentId });
    });
}
