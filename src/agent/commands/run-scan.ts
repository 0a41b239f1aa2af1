import { checkScanShape } from '../../domain/action-args.ts';
import { merkleRoot, leafHash } from '../../merkle/mod.ts';
import { checkScanRequest } from '../../scan/allowlist.ts';
import { itemBytes, type ScanItem } from '../../scan/items.ts';
import { RUN_PART_MAX_ITEMS } from '../../scan/runs/schema.ts';
import { runScan } from '../../scan/scan.ts';
import { type ActionResult, failed, succeeded } from '../actions/result.ts';
import { type ListeningService, listeningServices } from '../connections.ts';
import type { CommandContext } from './context.ts';

/** Items per part posted to the ingress (well under its bound, so a part of TLS items stays small). */
export const PART_ITEMS = 1000;

/**
 * The agent's `run-scan`: checks the command's targets against the allowlist it carries with this
 * host's resolver (the DNS-rebinding defence runs where the scan runs; nothing is sent when it
 * refuses), scans with the engine's rate and concurrency limits, and stores the run at the
 * ingress — its items in parts, sealed with the last one with the Merkle root computed here, and
 * the host's listening services (with their processes) alongside. The run's id is the command's.
 */
export async function runScanCommand(args: unknown, ctx: CommandContext, o: { dnsServers?: string[] } = {}): Promise<ActionResult> {
  const a = (args ?? {}) as Record<string, unknown>;
  const allowlist = a.allowlist;
  if (!Array.isArray(allowlist) || !allowlist.every((e) => typeof e === 'string')) return failed('refused: the command carries no allowlist');
  const { allowlist: _a, ...request } = a;
  const shape = checkScanShape(request);
  if (!shape.ok) return failed(`refused: ${shape.error.message}`, { code: shape.error.code });
  const check = await checkScanRequest({ targets: shape.scan.targets, ports: shape.ports }, allowlist as string[], {
    refuseInternal: false,
    ...(o.dnsServers ? { dnsServers: o.dnsServers } : {}),
  });
  if (!check.ok) {
    const what = check.problems.map((p) => `${p.target}: ${p.reason}${p.address ? ` (${p.address})` : ''}`).join('; ');
    return failed(`refused before anything was sent: ${what}`, { code: check.code, problems: check.problems });
  }
  const now = ctx.now ?? (() => new Date());
  const services = await listeningServices(ctx.root).catch((): ListeningService[] => []);
  const startedAt = now().toISOString();
  const result = await runScan(check.plan, { ...shape.scan.options, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  const finishedAt = now().toISOString();
  const root = Buffer.from(merkleRoot(result.items.map((i) => leafHash(itemBytes(i))))).toString('hex');
  const parts = Math.max(1, Math.ceil(result.items.length / Math.min(PART_ITEMS, RUN_PART_MAX_ITEMS)));
  let answer: Awaited<ReturnType<CommandContext['client']['post']>> | null = null;
  for (let p = 0; p < parts; p++) {
    const offset = p * PART_ITEMS;
    const last = p === parts - 1;
    const body = {
      agentId: ctx.client.agentId,
      runId: ctx.commandId,
      commandId: ctx.commandId,
      offset,
      items: result.items.slice(offset, offset + PART_ITEMS),
      ...(last
        ? {
            seal: {
              count: result.items.length,
              merkleRoot: root,
              startedAt,
              finishedAt,
              aborted: result.aborted,
              targets: shape.scan.targets,
              ports: shape.scan.ports,
              services: services.slice(0, 4096),
            },
          }
        : {}),
    };
    answer = await ctx.client.post('/agent/v1/scan-runs', body);
    if (answer.status !== 202 && answer.status !== 201) {
      const e = answer.body?.error;
      return failed(
        `scanned ${result.items.length} endpoints but the ingress refused part ${p + 1} of ${parts} (${answer.status} ${e?.code ?? ''}): ${e?.message ?? ''}`,
        {
          status: answer.status,
          code: e?.code ?? null,
        },
      );
    }
  }
  const counts = { open: 0, closed: 0, filtered: 0 };
  for (const i of result.items as ScanItem[]) counts[i.state]++;
  const sealed = answer?.body?.sealed;
  return succeeded(
    `scanned ${result.items.length} endpoints (${counts.open} open, ${counts.closed} closed, ${counts.filtered} filtered) with ${result.connections} connections; run ${answer?.body?.runId} sealed, Merkle root ${root}`,
    {
      runId: answer?.body?.runId ?? null,
      count: result.items.length,
      merkleRoot: root,
      counts,
      connections: result.connections,
      aborted: result.aborted,
      diff: sealed?.diff ?? null,
    },
  );
}
