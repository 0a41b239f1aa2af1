import type { IngressResponse } from '../client.ts';
import type { HostRoot } from '../host-root.ts';
import { type InventoryOptions, type PatchInventory, takeInventory } from '../patch/inventory.ts';
import type { AgentPoster } from './context.ts';

/**
 * The patch collector: takes the host's inventory (installed packages, pending upgrades with their
 * security origin and CVE ids, reboot flag) and posts it to `POST /agent/v1/inventory`. Run it on
 * the patch product's interval; keep `cveCache` between runs so a changelog is fetched once per
 * candidate version.
 */
export async function collectPatchInventory(
  ctx: { root: HostRoot; client: AgentPoster },
  o: Omit<InventoryOptions, 'root'> = {},
): Promise<{ inventory: PatchInventory; answer: IngressResponse }> {
  const inventory = await takeInventory({ ...o, root: ctx.root.dir });
  const answer = await ctx.client.post('/agent/v1/inventory', { agentId: ctx.client.agentId, inventory });
  return { inventory, answer };
}
