import type { InstallSettings } from '../../../commands/settings/events.ts';
import { StkError } from '../../errors.ts';
import type { People } from '../../people/people.ts';

const DAY_MS = 24 * 3600_000;

/**
 * The expiry of a new API token: `days` when given, the install's default otherwise; never
 * beyond the install's maximum (STK_ERR_TOKEN_EXPIRY_TOO_LONG, nothing written).
 */
export function tokenExpiry(settings: InstallSettings, days: number | undefined, now = Date.now()): string {
  const d = days ?? settings.tokenDefaultDays;
  if (d > settings.tokenMaxDays)
    throw new StkError('STK_ERR_TOKEN_EXPIRY_TOO_LONG', `a token lives at most ${settings.tokenMaxDays} days on this install`, {
      field: 'expiresInDays',
      limit: settings.tokenMaxDays,
    });
  return new Date(now + d * DAY_MS).toISOString();
}

/** Adds each token's last-used time (batched per process, see `TokenUsage`). */
export async function withLastUsed<T extends { id: string }>(people: People, items: T[]): Promise<Array<T & { lastUsedAt: string | null }>> {
  const used = await people.usage.lastUsed(items.map((t) => t.id));
  return items.map((t) => ({ ...t, lastUsedAt: used.get(t.id) ?? null }));
}
