import { isStkError } from '../../errors.ts';
import { accountAction } from '../actions/accounts.ts';
import { collectEvidence } from '../actions/evidence.ts';
import { isolateHost, releaseHost } from '../actions/isolation.ts';
import { killProcess } from '../actions/kill-process.ts';
import { type ActionResult, describeRun, failed, runDetails, runTool, succeeded } from '../actions/result.ts';
import { type DirectoryConfig, runDirectoryCommand } from '../directory/mod.ts';
import type { HostRoot } from '../host-root.ts';
import { type CommandContext, posterOf } from '../commands/context.ts';
import { installPatchesCommand } from '../commands/install-patches.ts';
import { runScanCommand } from '../commands/run-scan.ts';
import type { IngressClient } from './client.ts';

/** Longest output a command result may carry (the ingress takes 64 KiB). */
const OUTPUT_MAX_CHARS = 60 * 1024;

/** What the actions need from the running agent. */
export interface ActionContext {
  root: HostRoot;
  client: IngressClient;
  /** Largest evidence upload the ingress takes. */
  evidenceMaxBytes(): number;
  directoryConfig(): Promise<DirectoryConfig | null>;
  /** What else the agent reports as its inventory. */
  inventory(): Record<string, unknown>;
  /** Isolation changed: the addresses to keep reaching the ingress by (null: released). */
  isolated(addresses: string[] | null): Promise<void>;
  /** The nft binary. @defaultValue 'nft' */
  nft?: string;
  /** Ends a long command early (the agent is stopping). */
  signal?: AbortSignal;
}

/** A command as the ingress hands it out. */
export interface AgentCommand {
  id: string;
  action: string;
  args: Record<string, unknown>;
}

/** The result text the agent posts: what was done (the tools' exit status and output), then its details as JSON. */
export function resultText(r: ActionResult): string {
  const details = Object.keys(r.details).length > 0 ? `\n\ndetails: ${JSON.stringify(r.details)}` : '';
  const text = `${r.output}${details}`;
  return text.length <= OUTPUT_MAX_CHARS ? text : `${text.slice(0, OUTPUT_MAX_CHARS - 20)}\n… (output cut)`;
}

/**
 * Runs one command with the host's own tools and answers its real outcome: isolate-host and
 * release-host (nftables), kill-process (exe hash checked), collect-evidence (bytes uploaded to the
 * ingress), disable-account / reset-credentials (the directory, or local accounts with
 * `usermod --root`/`chage --root`), lock-account / expire-account (local).
 */
export async function runAction(ctx: ActionContext, c: AgentCommand): Promise<ActionResult> {
  const a = c.args ?? {};
  const nft = ctx.nft ? { nft: ctx.nft } : {};
  switch (c.action) {
    case 'ping':
      return succeeded('pong');
    case 'collect-inventory':
      return succeeded(JSON.stringify(ctx.inventory()));
    case 'isolate-host': {
      // The agent's own ingress unless told otherwise: isolating must never cut the agent off.
      const endpoint = ctx.client.endpoint;
      const r = await isolateHost({ ingressHost: a.ingressHost ?? endpoint.host, ingressPort: a.ingressPort ?? endpoint.port }, nft);
      if (r.outcome === 'succeeded') await ctx.isolated(r.details.addresses as string[]);
      return r;
    }
    case 'release-host': {
      const r = await releaseHost(nft);
      if (r.outcome === 'succeeded') await ctx.isolated(null);
      return r;
    }
    case 'kill-process':
      return killProcess(ctx.root, { pid: a.pid, sha256: a.sha256 });
    case 'collect-evidence':
      return collectAndUpload(ctx, c);
    case 'disable-account':
    case 'reset-credentials':
      return identityAction(ctx, c.action, a);
    case 'lock-account':
    case 'expire-account':
      return accountAction(ctx.root, c.action, { account: a.account });
    case 'run-scan':
      return runScanCommand(a, commandContext(ctx, c));
    case 'install-patches':
      return installPatchesCommand(a, commandContext(ctx, c));
    default:
      return failed(`this agent does not know the action ${c.action}`);
  }
}

/** What the scan and patch handlers get: the host root, the ingress as this agent, the command's id. */
function commandContext(ctx: ActionContext, c: AgentCommand): CommandContext {
  return { root: ctx.root, client: posterOf(ctx.client), commandId: c.id, ...(ctx.signal ? { signal: ctx.signal } : {}) };
}

async function collectAndUpload(ctx: ActionContext, c: AgentCommand): Promise<ActionResult> {
  const limit = ctx.evidenceMaxBytes();
  const asked = c.args.maxBytes;
  const maxBytes = typeof asked === 'number' && Number.isSafeInteger(asked) && asked >= 0 ? Math.min(asked, limit) : limit;
  const r = await collectEvidence(ctx.root, { path: c.args.path, maxBytes });
  if (r.outcome !== 'succeeded' || !r.content) return { outcome: r.outcome, output: r.output, details: r.details };
  const sha256 = r.details.sha256 as string;
  let answer: Awaited<ReturnType<IngressClient['evidence']>>;
  try {
    answer = await ctx.client.evidence(c.id, String(r.details.resolvedPath ?? c.args.path), sha256, r.content);
  } catch (err) {
    return failed(`collected ${r.content.length} bytes but could not upload them: ${(err as Error).message}`, { ...r.details });
  }
  if (answer.status !== 201)
    return failed(`collected ${r.content.length} bytes; the ingress refused the upload (${answer.status}): ${JSON.stringify(answer.body)}`, { ...r.details });
  const body = answer.body as { evidenceId: string };
  return succeeded(`${r.output}; uploaded as evidence ${body.evidenceId}`, { ...r.details, evidenceId: body.evidenceId });
}

/** A directory account when the agent has directory settings and the command does not say `source: local`; else a local account. */
async function identityAction(ctx: ActionContext, action: 'disable-account' | 'reset-credentials', a: Record<string, unknown>): Promise<ActionResult> {
  const directory = a.source === 'local' ? null : await ctx.directoryConfig().catch((err: unknown) => err);
  if (directory instanceof Error)
    return failed(`the directory settings cannot be used: ${directory.message}`, isStkError(directory) ? { error: directory.toJSON() } : {});
  if (a.source === 'directory' && !directory) return failed('refused: this agent has no directory settings');
  if (directory) return runDirectoryCommand(directory as DirectoryConfig, action, { account: a.account });
  if (action === 'disable-account') {
    // Locked (no password logins) and expired (no logins at all, SSH keys included).
    const lock = await accountAction(ctx.root, 'lock-account', { account: a.account });
    if (lock.outcome !== 'succeeded') return lock;
    const expire = await accountAction(ctx.root, 'expire-account', { account: a.account });
    return { outcome: expire.outcome, output: `${lock.output}\n${expire.output}`, details: { account: a.account, lock: lock.details, expire: expire.details } };
  }
  const account = a.account;
  if (typeof account !== 'string' || !/^[a-z_][a-z0-9_.-]{0,31}\$?$/i.test(account))
    return failed(`refused: ${JSON.stringify(account)} is not a local account name`);
  // The password must be changed at the next login: its last change is set to day 0.
  const r = await runTool('chage', ['--root', ctx.root.dir, '--lastday', '0', '--', account], { timeoutMs: 60_000 });
  const details = { account, action, run: runDetails(r) };
  return r.exitCode === 0 ? succeeded(describeRun(r), details) : failed(describeRun(r), details);
}
