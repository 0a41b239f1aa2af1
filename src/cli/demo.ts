import type { Command } from 'commander';
import { StkError } from '../errors.ts';

interface TargetFlags {
  data?: string;
  dir?: string;
  api?: string;
  adminKeyFile?: string;
  ingress?: string;
  ca?: string;
}

/** The install from `--data`/`--dir` (a running install's folder) or from `--api` and its companions. */
async function targetOf(f: TargetFlags) {
  const { targetOfDataDir, targetOfFlags } = await import('../demo/mod.ts');
  if (f.api) {
    if (f.data || f.dir) throw new StkError('STK_ERR_CONFIG', 'give either --api (with --admin-key-file, --ingress, --ca) or --data, not both');
    return targetOfFlags(f);
  }
  return targetOfDataDir(f.data ?? f.dir);
}

function withTarget(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data folder of the running install (STOCKADE_DATA): its addresses, admin key and CA')
    .option('--dir <dir>', 'the same as --data')
    .option('--api <url>', 'operator API of an install elsewhere (needs --admin-key-file, --ingress and --ca)')
    .option('--admin-key-file <file>', "file holding the install's admin key")
    .option('--ingress <url>', 'the ingress as agents reach it (https://…)')
    .option('--ca <file>', "the install's CA certificate (PEM), which the demo's agents pin");
}

const say = (line: string): void => {
  process.stderr.write(`demo: ${line}\n`);
};

/** `stockade demo seed|reset`: the demo book (docs/operator-manual.md, "Demo data"). */
export function registerDemo(program: Command): void {
  const demo = program.command('demo').description("fill an install with a believable MSP's demo customers, or take them out again");
  withTarget(demo.command('seed'))
    .description('create demo customers, people and agents through the API and the ingress (deterministic for --seed)')
    .option('--customers <n>', 'how many customers (1 to 24)', '4')
    .option('--seed <seed>', 'the seed: the same seed makes the same names and story', '1')
    .option('--force', 'seed even though the install holds customers the demo did not make')
    .option('--timeout <ms>', 'longest wait for the install to show what was sent (alerts the detector raises)', '120000')
    .option('--keep-alive', 'stay connected afterwards: the demo agents heartbeat every 60 s until interrupted')
    .action(async (f: TargetFlags & { customers: string; seed: string; force?: boolean; timeout: string; keepAlive?: boolean }) => {
      const { MAX_CUSTOMERS, seedDemo } = await import('../demo/mod.ts');
      const customers = Number(f.customers);
      if (!Number.isInteger(customers) || customers < 1 || customers > MAX_CUSTOMERS)
        throw new StkError('STK_ERR_CONFIG', `--customers must be a whole number from 1 to ${MAX_CUSTOMERS}`, { field: '--customers' });
      const timeoutMs = Number(f.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1000)
        throw new StkError('STK_ERR_CONFIG', '--timeout must be a whole number of ms, at least 1000', { field: '--timeout' });
      const seeded = await seedDemo({ target: await targetOf(f), customers, seed: f.seed, force: f.force === true, timeoutMs, progress: say });
      const s = seeded.summary;
      for (const c of s.customers) console.log(`${c.id}\t${c.name}\t${c.products.join(',')}\t${c.hosts.length} hosts\t${c.alerts} alerts`);
      console.log(`people sign in with their e-mail and the password ${s.password}:`);
      for (const p of s.people) console.log(`  ${p.name} <${p.email}>${p.signsIn ? '' : ' (invited, not accepted)'}`);
      if (!f.keepAlive) {
        seeded.close();
        return;
      }
      say('keeping the demo agents online (Ctrl-C to stop)');
      const timer = setInterval(() => void seeded.heartbeat().catch((err: Error) => say(`heartbeat failed: ${err.message}`)), 60_000);
      await new Promise<void>((resolve) => {
        for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
      });
      clearInterval(timer);
      seeded.close();
    });
  withTarget(demo.command('reset'))
    .description("disable the demo's people and offboard the demo's customers; nothing else is touched")
    .option('--force', "also offboard tenants with the demo's prefix that lack its marker (a seed stopped half-way)")
    .action(async (f: TargetFlags & { force?: boolean }) => {
      const { resetDemo } = await import('../demo/mod.ts');
      const r = await resetDemo({ target: await targetOf(f), force: f.force === true, progress: say });
      console.log(
        `${r.offboarded.length} demo customer(s) offboarded, ${r.disabled.length} demo people disabled${r.skipped.length ? `, ${r.skipped.length} left alone` : ''}`,
      );
    });
}
