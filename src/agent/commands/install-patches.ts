import { isStkError } from '../../errors.ts';
import { JOB_OUTPUT_MAX_CHARS } from '../../patch/schema.ts';
import { type ActionResult, failed, succeeded } from '../actions/result.ts';
import { type InstallPatchesResult, installPatches, validateInstallArgs } from '../patch/install.ts';
import { insideWindow, type MaintenanceWindow, nextWindowStart, validateWindow } from '../patch/window.ts';
import { type CommandContext, waitUntilClock } from './context.ts';

/** The job result as `POST /agent/v1/inventory` takes it: each package's output cut to its tail. */
export function jobOf(r: InstallPatchesResult, commandId: string) {
  return {
    commandId,
    mode: r.mode,
    dryRun: r.dryRun,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    listsRefreshed: r.listsRefreshed,
    succeeded: r.succeeded,
    rebootRequired: r.rebootRequired,
    results: r.results.map((p) => ({
      ...p,
      output: p.output.slice(-JOB_OUTPUT_MAX_CHARS),
      outputTruncated: p.outputTruncated || p.output.length > JOB_OUTPUT_MAX_CHARS,
      alsoChanged: p.alsoChanged.slice(0, 1000),
    })),
  };
}

/**
 * Holds until the maintenance window is open: the first instant it is, re-checked after each wait
 * (the clock may have jumped, or the machine slept through the window). Resolves with the time it
 * waited for, or null when the window was open already.
 */
export async function holdForWindow(window: MaintenanceWindow, ctx: Pick<CommandContext, 'now' | 'waitUntil' | 'signal'>): Promise<Date | null> {
  const now = ctx.now ?? (() => new Date());
  const wait = ctx.waitUntil ?? waitUntilClock;
  let held: Date | null = null;
  for (let t = now(); !insideWindow(window, t); t = now()) {
    held = nextWindowStart(window, t);
    await wait(held, ctx.signal);
  }
  return held;
}

/**
 * The agent's `install-patches`: waits for the tenant's maintenance window the command carries,
 * upgrades the security updates or the named packages with apt (one run per package, exact
 * versions, non-interactive; `dryRun` simulates), posts the job's result per package and the fresh
 * inventory taken after a real run, and answers the command with the outcome per package.
 */
export async function installPatchesCommand(args: unknown, ctx: CommandContext): Promise<ActionResult> {
  const { window: rawWindow, ...rest } = (args ?? {}) as Record<string, unknown>;
  let window: MaintenanceWindow | null = null;
  try {
    validateInstallArgs(rest);
    if (rawWindow !== undefined && rawWindow !== null) window = validateWindow(rawWindow);
  } catch (err) {
    return failed(`refused: ${(err as Error).message}`, isStkError(err) ? { code: err.code } : {});
  }
  const heldUntil = window ? await holdForWindow(window, ctx) : null;
  const now = ctx.now ?? (() => new Date());
  let result: InstallPatchesResult;
  try {
    result = await installPatches(rest, { root: ctx.root.dir, now });
  } catch (err) {
    return failed(`install-patches could not run: ${(err as Error).message}`, isStkError(err) ? { code: err.code, ...err.data } : {});
  }
  const answer = await ctx.client.post('/agent/v1/inventory', {
    agentId: ctx.client.agentId,
    job: jobOf(result, ctx.commandId),
    ...(result.inventory ? { inventory: result.inventory } : {}),
  });
  const lines = result.results.map((p) => `${p.package}: ${p.outcome} ${p.from ?? '-'} → ${p.to ?? '-'} (exit ${p.exitCode ?? '-'})`);
  const details = {
    dryRun: result.dryRun,
    heldUntil: heldUntil?.toISOString() ?? null,
    rebootRequired: result.rebootRequired,
    results: result.results.map((p) => ({ package: p.package, from: p.from, to: p.to, outcome: p.outcome, exitCode: p.exitCode })),
    reported: answer.status === 202,
  };
  const head = `${result.dryRun ? 'dry run: ' : ''}${result.results.length} package(s)${heldUntil ? `, held until the window opened at ${heldUntil.toISOString()}` : ''}`;
  if (answer.status !== 202) lines.push(`the ingress did not take the result (${answer.status} ${answer.body?.error?.code ?? ''})`);
  const text = [head, ...lines].join('\n');
  return result.succeeded ? succeeded(text, details) : failed(text, details);
}
