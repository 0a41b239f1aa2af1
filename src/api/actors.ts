import type { AccessDoc } from '../../projections/access/projection.ts';
import type { AgentDoc } from '../../projections/agents/projection.ts';
import type { TokenDoc } from '../../projections/tokens/projection.ts';
import type { Doc } from '../store/model.ts';
import { installPermissions, permissionsOn } from './access.ts';
import type { TenantContext } from './route.ts';

/** What the console shows for who acted: a name (null when it cannot be named) and, for a person the caller may look up, the e-mail. */
export interface ActorName {
  name: string | null;
  email?: string;
}

/** The name of the system actor (projectors, schedulers, the detection engine). */
export const SYSTEM_NAME = 'Stockade';
/** The name of the install's admin key. */
export const ADMIN_NAME = 'the admin key (break-glass)';

/** A principal as read models record it (`by(e)` = `<kind>:<id>`), with what a record may have added after it (` (note)`). */
function parse(raw: string): { kind: string; id: string; rest: string } {
  const space = raw.indexOf(' ');
  const principal = space < 0 ? raw : raw.slice(0, space);
  const colon = principal.indexOf(':');
  return colon < 0
    ? { kind: principal, id: '', rest: space < 0 ? '' : raw.slice(space) }
    : { kind: principal.slice(0, colon), id: principal.slice(colon + 1), rest: space < 0 ? '' : raw.slice(space) };
}

/**
 * Names the principals of one page of this tenant's records, in one batched read per kind: a
 * person by display name, an agent by host name, a service token by its label, the system as
 * "Stockade". The wall is the audit trail's: a person is named wherever they acted in this
 * customer's records (the id is already there); the e-mail only where the caller could read it
 * anyway — `users.read` install-wide, or `access.read` here for someone holding roles here.
 */
export async function actorNames(c: TenantContext, raws: Iterable<string>): Promise<Map<string, ActorName>> {
  const userIds = new Set<string>();
  const agentIds = new Set<string>();
  const tokenIds = new Set<string>();
  const unique = new Set(raws);
  for (const raw of unique) {
    const { kind, id } = parse(raw);
    if (kind === 'agent') agentIds.add(id);
    else if (kind === 'operator' && id.startsWith('user:')) userIds.add(id.slice(5));
    else if (kind === 'operator' && id.startsWith('token:')) tokenIds.add(id.slice(6));
  }
  const users = [...userIds];
  const agents = [...agentIds];
  const tokens = [...tokenIds];
  const anyEmail = installPermissions(c.principal).has('users.read');
  const onTenantEmail = !anyEmail && permissionsOn(c.principal, c.tenant).has('access.read');
  const [userDocs, agentDocs, tokenDocs, accessDocs] = await Promise.all([
    users.length ? c.directory.users(users) : [],
    agents.length ? c.store.getMany<AgentDoc>('agents', agents) : [],
    tokens.length ? c.store.getMany<TokenDoc>('tokens', tokens) : [],
    onTenantEmail && users.length ? c.store.getMany<AccessDoc>('access', users) : [],
  ]);
  const person = new Map<string, ActorName>();
  users.forEach((id, i) => {
    const u = userDocs[i];
    const mayMail = anyEmail || (accessDocs[i]?.roles.length ?? 0) > 0;
    person.set(id, u ? { name: u.name, ...(mayMail ? { email: u.email } : {}) } : { name: null });
  });
  const host = new Map(agents.map((id, i) => [id, agentDocs[i]?.hostname ?? null]));
  const label = new Map(tokens.map((id, i) => [id, tokenDocs[i] ? tokenDocs[i].label || 'service token' : null]));
  const out = new Map<string, ActorName>();
  for (const raw of unique) {
    const { kind, id, rest } = parse(raw);
    let named: ActorName = { name: null };
    if (kind === 'system') named = { name: SYSTEM_NAME };
    else if (kind === 'agent') named = { name: host.get(id) ?? null };
    else if (kind === 'operator' && id === 'admin') named = { name: ADMIN_NAME };
    else if (kind === 'operator' && id.startsWith('user:')) named = person.get(id.slice(5)) ?? named;
    else if (kind === 'operator' && id.startsWith('token:')) named = { name: label.get(id.slice(6)) ?? null };
    // A record may add to the principal (an evidence seal names the sealer's id in brackets, the
    // principal's own id — said once by the name): anything else it adds is kept.
    const extra = rest === ` (${id})` ? '' : rest;
    out.set(raw, named.name !== null && extra ? { ...named, name: `${named.name}${extra}` } : named);
  }
  return out;
}

/** Where a collection's documents record who acted: top-level fields, and fields of entries of lists (`timeline[].by`). */
export interface ActorFields {
  fields?: readonly string[];
  lists?: Readonly<Record<string, readonly string[]>>;
  /** Fields holding `{ actorId }` (an operator's actor id, as four-eyes requests record it). */
  people?: readonly string[];
}

/** Adds `<field>Name` (and `<field>Email` where the caller may read it) next to a raw principal. */
function named(into: Record<string, unknown>, field: string, raw: unknown, names: Map<string, ActorName>): void {
  if (typeof raw !== 'string') return;
  const n = names.get(raw) ?? { name: null };
  into[`${field}Name`] = n.name;
  if (n.email !== undefined) into[`${field}Email`] = n.email;
}

const personRaw = (v: unknown): string | null =>
  v && typeof v === 'object' && typeof (v as { actorId?: unknown }).actorId === 'string' ? `operator:${(v as { actorId: string }).actorId}` : null;

/**
 * A page decoration (`ListOptions.decorate`) that names who acted in the given fields; the raw
 * principals stay as they are (API compatibility), the names go next to them.
 */
export function withActorNames(spec: ActorFields): (items: Doc[], c: TenantContext) => Promise<Doc[]> {
  return async (items, c) => {
    const raws: string[] = [];
    for (const d of items) {
      for (const f of spec.fields ?? []) if (typeof d[f] === 'string') raws.push(d[f] as string);
      for (const [list, fields] of Object.entries(spec.lists ?? {})) {
        const entries = d[list];
        if (!Array.isArray(entries)) continue;
        for (const x of entries) for (const f of fields) if (typeof x?.[f] === 'string') raws.push(x[f]);
      }
      for (const f of spec.people ?? []) {
        const raw = personRaw(d[f]);
        if (raw) raws.push(raw);
      }
    }
    if (!raws.length) return items;
    const names = await actorNames(c, raws);
    return items.map((d) => {
      const out: Record<string, unknown> = { ...d };
      for (const f of spec.fields ?? []) named(out, f, d[f], names);
      for (const [list, fields] of Object.entries(spec.lists ?? {})) {
        const entries = d[list];
        if (!Array.isArray(entries)) continue;
        out[list] = entries.map((x) => {
          const entry: Record<string, unknown> = { ...x };
          for (const f of fields) named(entry, f, x?.[f], names);
          return entry;
        });
      }
      for (const f of spec.people ?? []) named(out, f, personRaw(d[f]), names);
      return out as Doc;
    });
  };
}

/** Runs page decorations one after another (host names, then who acted). */
export function decorations(...steps: Array<(items: Doc[], c: TenantContext) => Promise<Doc[]>>): (items: Doc[], c: TenantContext) => Promise<Doc[]> {
  return async (items, c) => {
    let out = items;
    for (const step of steps) out = await step(out, c);
    return out;
  };
}

/** A view of one document from a page decoration. */
export function viewOf(decorate: (items: Doc[], c: TenantContext) => Promise<Doc[]>): (d: Doc, c: TenantContext) => Promise<Doc> {
  return async (d, c) => (await decorate([d], c))[0] ?? d;
}

/** What the API documentation says of the names. */
export const ACTOR_NAMES_DOC =
  'Who acted is named next to each raw principal (`<field>` = `<kind>:<id>`, kept as it was): `<field>Name` is a person’s display name, an agent’s host name, a service token’s label, `Stockade` for the system, or null when it cannot be named; `<field>Email` is added for a person whose e-mail the caller may read (`users.read`, or `access.read` and the person holds roles on this customer)';
