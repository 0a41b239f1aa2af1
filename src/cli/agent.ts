import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { hostname, platform, release } from 'node:os';
import { resolve } from 'node:path';
import { StkError } from '../errors.ts';
import { HostRoot } from '../agent/host-root.ts';
import { machineFingerprint } from '../agent/machine.ts';
import { AGENT_VERSION, AgentRunner } from '../agent/run/runner.ts';
import { AgentClient, loadAgentState, saveAgentState, type WireEvent } from '../agent/client.ts';

function say(fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));
}

/**
 * `stockade agent enroll|report|run`: the reference agent. Its key is made here and never sent;
 * its key and certificate are kept in `--dir` with mode 0600.
 */
export function registerAgent(program: Command): void {
  const agent = program.command('agent').description('the agent: enroll, report events, run');

  agent
    .command('enroll')
    .description('make a key and CSR here, enroll with the ingress, save key and certificate (mode 0600)')
    .requiredOption('--url <url>', 'ingress URL, e.g. https://127.0.0.1:8443 (STOCKADE_INGRESS_URL)', process.env.STOCKADE_INGRESS_URL)
    .requiredOption('--ca <file>', "the install's CA certificate (<data>/pki/ca.crt), to trust the ingress")
    .option('--secret <secret>', 'enrollment secret (better: STOCKADE_ENROLL_SECRET, which stays out of the process list)')
    .option('--dir <dir>', 'where the agent keeps its key and certificate', './agent')
    .option('--host-root <dir>', "where the host's /etc is (for the machine fingerprint)", '/')
    .action(async (o: { url: string; ca: string; secret?: string; dir: string; hostRoot: string }) => {
      const caPem = await readFile(o.ca, 'utf8');
      // Lets an admin block this machine when revoking its agent (docs/agent-protocol.md).
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
    .description(
      'the agent: asks the ingress for its configuration, runs the collectors of the products that are on, sends through a disk spool, runs commands, reports its health, renews its certificate',
    )
    .option('--dir <dir>', 'the enrolled agent folder (its state and spool live under it, 0700)', './agent')
    .option('--host-root <dir>', "where the host's files are read (/proc, /etc …) and changed (usermod --root)", '/')
    .option('--spool-max-bytes <n>', 'bound of the disk spool that holds batches while the ingress is unreachable', String(64 * 1024 * 1024))
    .option('--directory-password-file <file>', 'the directory bind password (default: <dir>/directory.password); it never leaves this host')
    .option('--interval <seconds>', 'seconds between heartbeats and command pulls, over the configured ones')
    .action(async (o: { dir: string; hostRoot: string; spoolMaxBytes: string; directoryPasswordFile?: string; interval?: string }) => {
      const dir = resolve(o.dir);
      const state = await loadAgentState(dir);
      const spoolMaxBytes = Number(o.spoolMaxBytes);
      if (!Number.isSafeInteger(spoolMaxBytes) || spoolMaxBytes < 1024)
        throw new StkError('STK_ERR_CONFIG', '--spool-max-bytes must be a whole number of at least 1024', { field: 'spoolMaxBytes' });
      const runner = await AgentRunner.open(
        {
          dir,
          root: await HostRoot.open(o.hostRoot),
          spoolMaxBytes,
          ...(o.directoryPasswordFile ? { directoryPasswordFile: resolve(o.directoryPasswordFile) } : {}),
          ...(o.interval !== undefined ? { intervalMs: Math.max(0.05, Number(o.interval)) * 1000 } : {}),
          log: say,
        },
        state,
      );
      const stop = (): void => void runner.stop();
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      try {
        await runner.start();
      } catch (err) {
        if (err instanceof StkError && err.code === 'STK_ERR_AGENT_REVOKED') {
          say({ msg: 'agent revoked', agentId: state.agentId, code: err.code });
          await runner.stop();
          process.exitCode = 3;
          return;
        }
        await runner.stop();
        throw err;
      }
      if ((await runner.done) === 'revoked') process.exitCode = 3;
    });
}
