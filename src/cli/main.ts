import { Command } from 'commander';
import { isStkError } from '../errors.ts';
import { registerServe } from './serve.ts';
import { registerProjections } from './projections.ts';
import { registerTenant } from './tenant.ts';
import { registerAgent } from './agent.ts';
import { registerLedger } from './ledger.ts';
import { registerSealer } from './sealer.ts';
import { registerBackup } from './backup.ts';
import { registerTelemetry } from './telemetry.ts';
import { registerWitness } from './witness.ts';
import { registerUser } from './user.ts';
import { registerScan } from './scan.ts';
import { registerDocs } from '../videos/cli.ts';
import { registerLifecycle } from './lifecycle.ts';
import { registerDemo } from './demo.ts';

/** Every CLI area registers its subcommands on the root program here. */
const REGISTRARS: Array<(program: Command) => void> = [
  registerServe,
  registerAgent,
  registerLedger,
  registerSealer,
  registerProjections,
  registerTenant,
  registerBackup,
  registerWitness,
  registerUser,
  registerScan,
  registerDocs,
  registerTelemetry,
  registerLifecycle,
  registerDemo,
];

export function buildProgram(): Command {
  const program = new Command('stockade')
    .description('Stockade: a multi-tenant security platform core on NATS JetStream')
    .version('0.1.0')
    .showHelpAfterError();
  for (const register of REGISTRARS) register(program);
  return program;
}

/** Prints a failure the way every command does: one line with the code, exit status 1. */
export function fail(err: unknown): never {
  if (isStkError(err)) {
    console.error(`stockade: ${err.message} (${err.code})`);
  } else {
    console.error(`stockade: ${(err as Error)?.stack ?? err}`);
  }
  process.exit(1);
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  fail(err);
}
