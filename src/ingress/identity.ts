import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { StkError } from '../errors.ts';
import { isValidId } from '../ids.ts';
import type { Product } from '../domain/products.ts';
import { readAgentRecord, type AgentRecord } from './agents.ts';
import { fingerprintOf } from './certificates.ts';
import type { IngressDeps } from './deps.ts';

/** What the ingress needs to know about tenants, from the tenancy layer (works without LevelDB). */
export interface TenantGate {
  /** The tenant a presented enrollment secret belongs to (and whether it is suspended), or null; the same work whatever the reason. */
  verifyEnrollSecret(secret: string): Promise<{ tenant: string; suspended: boolean } | null>;
  /** A tenant's current state; null when there is no such tenant. */
  tenantState(tenant: string): Promise<{ suspended: boolean; products: readonly Product[] } | null>;
  /**
   * An agent's enrolled record and its tenant's state, both as of everything stored before the
   * call (one check of the log for both). Without it, the record is read from the log on every request.
   */
  agentAndTenant?(
    tenant: string,
    agentId: string,
  ): Promise<{ record: AgentRecord | null; tenant: { suspended: boolean; products: readonly Product[] } | null }>;
  /** The same as the views hold it now, without a check of the log (a long-poll looking again after a wake). */
  knownAgentAndTenant?(
    tenant: string,
    agentId: string,
  ): Promise<{ record: AgentRecord | null; tenant: { suspended: boolean; products: readonly Product[] } | null }>;
}

/** The agent behind a request, established from its client certificate and its enrolled record. */
export interface AgentIdentity extends AgentRecord {
  products: readonly Product[];
  /** The fingerprint of the certificate this request came with (renewal records it as the one replaced). */
  fingerprint?: string;
}

interface Peer {
  agentId: string;
  tenant: string;
  /** Expiry of the certificate (ms since the epoch). */
  notAfterMs: number;
  /** Hex SHA-256 of the certificate's DER, the form enrollment and renewal record. */
  fingerprint: string;
}

/** The certificate's names; the socket's TLS identity cannot change, so it is read once per connection. */
const peers = new WeakMap<TLSSocket, Peer | StkError>();

/**
 * The client certificate of a request: it must chain to the install's CA and be in its validity
 * period (OpenSSL checked both, and the client-auth usage, during the handshake), and name an agent
 * id (CN) and a tenant (O) of the allowed forms.
 */
export function peerOf(req: FastifyRequest, now: () => Date = () => new Date()): { agentId: string; tenant: string; fingerprint: string } {
  const socket = req.raw.socket as TLSSocket;
  let peer = peers.get(socket);
  if (!peer) {
    peer = readPeer(socket);
    peers.set(socket, peer);
  }
  if (peer instanceof StkError) throw peer;
  // OpenSSL checked the validity period at the handshake; a keep-alive connection can outlive it.
  if (now().getTime() > peer.notAfterMs)
    throw new StkError('STK_ERR_AGENT_CERT_INVALID', 'client certificate refused: CERT_HAS_EXPIRED', { reason: 'CERT_HAS_EXPIRED' });
  return { agentId: peer.agentId, tenant: peer.tenant, fingerprint: peer.fingerprint };
}

function readPeer(socket: TLSSocket): Peer | StkError {
  if (typeof socket.getPeerCertificate !== 'function') return new StkError('STK_ERR_AGENT_CERT_INVALID', 'agent requests need TLS with a client certificate');
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return new StkError('STK_ERR_AGENT_CERT_INVALID', 'a client certificate from this install is required');
  if (!socket.authorized) {
    const why = String(socket.authorizationError ?? 'not trusted');
    return new StkError('STK_ERR_AGENT_CERT_INVALID', `client certificate refused: ${why}`, { reason: why });
  }
  const agentId = first(cert.subject?.CN);
  const tenant = first(cert.subject?.O);
  const notAfterMs = Date.parse(cert.valid_to);
  if (!isValidId('token', agentId) || !isValidId('tenant', tenant) || !Number.isFinite(notAfterMs) || !cert.fingerprint256)
    return new StkError('STK_ERR_AGENT_CERT_INVALID', 'client certificate does not name an agent');
  return { agentId, tenant, notAfterMs, fingerprint: fingerprintOf(cert.fingerprint256) };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Establishes the agent of a request: the certificate, the `agentId` the request claims (which must
 * be the certificate's CN), the enrolled record (which must exist and not be revoked) and its
 * tenant (which must exist and not be suspended). The tenant comes from the record, never from
 * the request.
 */
export async function authenticateAgent(
  req: FastifyRequest,
  deps: Pick<IngressDeps, 'log' | 'tenants' | 'now' | 'certificates'>,
  claimedAgentId: string | undefined,
): Promise<AgentIdentity> {
  const peer = peerOf(req, deps.now);
  if (claimedAgentId !== undefined && claimedAgentId !== peer.agentId) {
    throw new StkError('STK_ERR_AGENT_ID_MISMATCH', 'client certificate does not match agent id', { field: 'agentId' });
  }
  const { tenants } = deps;
  let identity: AgentIdentity;
  if (tenants.agentAndTenant) identity = admitted(await tenants.agentAndTenant(peer.tenant, peer.agentId));
  else {
    const record = await readAgentRecord(deps.log, peer.tenant, peer.agentId);
    identity = admitted({ record, tenant: record ? await tenants.tenantState(record.tenant) : null });
  }
  // Only the agent's current certificate talks for it: a renewal retires the one it replaced.
  await deps.certificates.check(peer.tenant, peer.agentId, peer.fingerprint, deps.now?.() ?? new Date());
  return { ...identity, fingerprint: peer.fingerprint };
}

/** The identity of an agent whose record and tenant were read, or the refusal they call for. */
export function admitted(o: { record: AgentRecord | null; tenant: { suspended: boolean; products: readonly Product[] } | null }): AgentIdentity {
  const { record, tenant } = o;
  if (!record) throw new StkError('STK_ERR_AGENT_CERT_INVALID', 'no enrolled agent matches this certificate');
  if (record.revoked) throw new StkError('STK_ERR_AGENT_REVOKED', 'agent is revoked');
  if (!tenant) throw new StkError('STK_ERR_AGENT_CERT_INVALID', 'no enrolled agent matches this certificate');
  if (tenant.suspended) throw new StkError('STK_ERR_TENANT_SUSPENDED', 'the tenant of this agent is suspended');
  return { ...record, products: tenant.products };
}
