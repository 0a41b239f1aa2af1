import { type UserState, userDecider } from '../../commands/users/decider.ts';
import { GRANT_INDEX } from '../../projections/access/projection.ts';
import { installSettingsOf, settingsDocId, type SettingsDoc } from '../../projections/settings/projection.ts';
import type { InstallSettings } from '../../commands/settings/events.ts';
import { isRole, type Role } from '../api/permissions.ts';
import { SessionStore } from '../dashboard/sessions.ts';
import { fold } from '../domain/decider.ts';
import { StkError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import type { ReadStore } from '../store/store.ts';
import { BreakGlass } from './break-glass.ts';
import { INSTALL_TENANT } from './install.ts';
import { SignInGuard } from './lockout.ts';
import { Refusals } from './refusals.ts';
import { TokenUsage } from './usage.ts';
import { PeopleVault } from './vault.ts';

/** Tenant → roles held there (`INSTALL_TENANT` for install-wide roles). */
export type Grants = Record<string, Role[]>;

/**
 * The people side of one process, shared by the operator API and the dashboard (both take it
 * from `peopleOf(rt)`): sealing of credentials, sign-in counters, sessions, token usage, refusals,
 * break-glass records, and the current state of users, read from the log.
 */
export class People {
  readonly #users = new Map<string, { version: number; state: UserState }>();

  private constructor(
    readonly rt: Runtime,
    readonly store: ReadStore,
    readonly vault: PeopleVault,
    readonly guard: SignInGuard,
    readonly sessions: SessionStore,
    readonly usage: TokenUsage,
    readonly refusals: Refusals,
    readonly breakGlass: BreakGlass,
  ) {}

  static async open(rt: Runtime): Promise<People> {
    if (!rt.readModels) throw new StkError('STK_ERR_INTERNAL', 'people services need the read models of this process');
    const replicas = rt.config.replicas;
    const store = rt.readModels.store;
    let people: People | null = null;
    const sessions = await SessionStore.open(rt.streams, { replicas, limits: () => people?.sessionLimits() ?? null });
    people = new People(
      rt,
      store,
      await PeopleVault.open(rt.streams, { replicas }),
      await SignInGuard.open(rt.streams, { replicas }),
      sessions,
      await TokenUsage.open(rt.streams, { replicas }),
      new Refusals(rt.streams, rt.logger.child({ component: 'refusals' }), replicas),
      new BreakGlass(rt.log),
    );
    return people;
  }

  #settings: { position: number; value: InstallSettings } | null = null;

  /** The install settings as this process's read models had them at the last refresh. */
  settings(): InstallSettings {
    return this.#settings?.value ?? installSettingsOf(null);
  }

  /** The install settings as the read models have them now; read again only when the projector moved. */
  async refreshSettings(): Promise<InstallSettings> {
    const position = this.rt.readModels?.projector.position ?? 0;
    if (this.#settings && this.#settings.position === position) return this.#settings.value;
    const doc = await this.store.forTenant(INSTALL_TENANT).get<SettingsDoc>('settings', settingsDocId(INSTALL_TENANT));
    this.#settings = { position, value: installSettingsOf(doc) };
    return this.#settings.value;
  }

  sessionLimits(): { idleMs: number; absoluteMs: number } {
    const s = this.settings();
    return { idleMs: s.sessionIdleMinutes * 60_000, absoluteMs: s.sessionAbsoluteMinutes * 60_000 };
  }

  /**
   * The user's state as the log has it now: one read of the user's newest commit (a JetStream
   * direct get), folded again only when it moved. Every process therefore sees a disable, a
   * password change or "sign out everywhere" on the very next request, without waiting for its
   * projector.
   */
  async user(userId: string): Promise<{ version: number; state: UserState }> {
    const stream = { tenant: INSTALL_TENANT, aggregateType: userDecider.aggregateType, aggregateId: userId };
    const head = await this.rt.log.lastCommit(stream);
    const version = head?.version ?? 0;
    const cached = this.#users.get(userId);
    if (cached && cached.version === version) return cached;
    const r = await this.rt.log.readAggregate(stream);
    const entry = { version: r.version, state: fold(userDecider, r.events) };
    if (this.#users.size >= 10_000) this.#users.clear();
    this.#users.set(userId, entry);
    return entry;
  }

  /** Every grant of a user, read by prefix from the `grant` index of this process's read models. */
  async grants(userId: string): Promise<Grants> {
    const sub = this.store.globalSub('access', this.store.activeGen('access'));
    const prefix = `${GRANT_INDEX}!${userId}:`;
    const out: Grants = {};
    for await (const [k, v] of sub.iterator({ gt: prefix, lt: `${prefix}~` })) {
      const roles = (v as unknown[]).filter(isRole);
      if (roles.length) out[k.slice(prefix.length)] = roles;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.usage.close();
  }
}

const opened = new WeakMap<Runtime, Promise<People>>();

/** The process's people services (one per runtime, opened on first use). */
export function peopleOf(rt: Runtime): Promise<People> {
  let p = opened.get(rt);
  if (!p) {
    p = People.open(rt);
    opened.set(rt, p);
    p.catch(() => opened.delete(rt));
  }
  return p;
}
