import { createHash } from 'node:crypto';
import { hostPort } from '../../src/scan/address.ts';
import type { CertificateFacts } from '../../src/scan/certificate.ts';
import type { Doc, DocRef, Write } from '../../src/store/model.ts';
import { defineProjection } from '../define.ts';
import { SCAN_ITEM, type ScanItemData } from '../scan-items/projection.ts';

/**
 * A token-safe document id for a value that is not one (an address, `address:port`); the tenant is
 * part of it, so no two tenants ever hold a document under one id.
 */
export function assetId(tenant: string, kind: string, value: string): string {
  return createHash('sha256').update(`${tenant}\u0000${kind}\u0000${value}`).digest().toString('base64url', 0, 16);
}

/** One address and port as the latest scan of it saw it (a document exists once it was seen open). */
export interface EndpointDoc extends Doc {
  address: string;
  port: number;
  endpoint: string;
  /** Targets the endpoint was reached through (a name and its address both count). */
  targets: string[];
  state: 'open' | 'closed' | 'filtered';
  lastRunId: string;
  lastSeenAt: string;
  firstOpenAt: string;
  banner: string | null;
  httpServer: string | null;
  tls: { versions: string[]; negotiated: { version: string; cipher: string } | null; weakCiphers: number } | null;
  certificateSha256: string | null;
}

/** A scanned address with the ports open at its latest scans. */
export interface AddressDoc extends Doc {
  address: string;
  targets: string[];
  openPorts: number[];
  lastRunId: string;
  lastSeenAt: string;
}

/**
 * The certificate an endpoint serves (or served last), one document per endpoint, listed soonest
 * expiry first: a certificate served on two endpoints is listed twice, once where each one is.
 */
export interface CertificateDoc extends Doc, CertificateFacts {
  endpoint: string;
  address: string;
  port: number;
  /** `yes` while the endpoint serves it (open, and this certificate); `no` once it serves another or is closed. */
  served: 'yes' | 'no';
  lastSeenAt: string;
}

// Lists go highest sort key first; a certificate's key falls as its expiry grows, so the soonest comes first.
const EXPIRY_BASE = 10_000_000_000_000;
const expiryOrder = (notAfter: string): number => Math.max(0, EXPIRY_BASE - Math.floor(Date.parse(notAfter) / 1000));

function refs(e: { tenant: string; data: unknown }): DocRef[] {
  const { item } = e.data as ScanItemData;
  const out: DocRef[] = [
    { collection: 'endpoints', id: assetId(e.tenant, 'endpoint', hostPort(item.address, item.port)) },
    { collection: 'asset-addresses', id: assetId(e.tenant, 'address', item.address) },
  ];
  out.push({ collection: 'certificates', id: assetId(e.tenant, 'certificate-at', hostPort(item.address, item.port)) });
  return out;
}

/**
 * The attack surface as the scans see it, fed by SCANS items in the order they were stored: every
 * endpoint once seen open (with its latest state, banner, TLS and certificate), every address with
 * its open ports, and the certificate each TLS endpoint serves. An endpoint a later scan finds
 * closed or filtered stays listed with that state; its certificate is then marked no longer served.
 */
export const assetsProjection = defineProjection({
  model: 'assets',
  main: 'endpoints',
  collections: {
    endpoints: { indexes: ['port', 'address', 'state'] },
    'asset-addresses': { indexes: [] },
    certificates: { indexes: ['served'] },
  },
  on: {
    [SCAN_ITEM]: {
      reads: refs,
      apply: (e, docs, seq) => {
        const { item } = e.data as ScanItemData;
        const runId = e.aggregate.id;
        const endpoint = hostPort(item.address, item.port);
        const epId = assetId(e.tenant, 'endpoint', endpoint);
        const old = docs.get<EndpointDoc>('endpoints', epId);
        const writes: Write[] = [];
        if (!old && item.state !== 'open') return writes;
        const cert = item.tls?.certificate ?? null;
        const ep: EndpointDoc = {
          id: epId,
          seq,
          address: item.address,
          port: item.port,
          endpoint,
          targets: [...new Set([...(old?.targets ?? []), item.target])].sort(),
          state: item.state,
          lastRunId: runId,
          lastSeenAt: e.at,
          firstOpenAt: old?.firstOpenAt ?? e.at,
          banner: item.state === 'open' ? (item.banner ?? null) : (old?.banner ?? null),
          httpServer: item.state === 'open' ? (item.http?.server ?? null) : (old?.httpServer ?? null),
          tls: item.tls
            ? { versions: item.tls.versions, negotiated: item.tls.negotiated, weakCiphers: item.tls.ciphers.filter((c) => c.weak).length }
            : item.state === 'open'
              ? null
              : (old?.tls ?? null),
          certificateSha256: item.state === 'open' ? (cert?.sha256 ?? null) : null,
        };
        writes.push({ collection: 'endpoints', id: epId, doc: ep });

        const adId = assetId(e.tenant, 'address', item.address);
        const ad = docs.get<AddressDoc>('asset-addresses', adId);
        const ports = new Set(ad?.openPorts ?? []);
        if (item.state === 'open') ports.add(item.port);
        else ports.delete(item.port);
        writes.push({
          collection: 'asset-addresses',
          id: adId,
          doc: {
            id: adId,
            seq: ad?.seq ?? seq,
            address: item.address,
            targets: [...new Set([...(ad?.targets ?? []), item.target])].sort(),
            openPorts: [...ports].sort((a, b) => a - b),
            lastRunId: runId,
            lastSeenAt: e.at,
          } satisfies AddressDoc,
        });

        const certId = assetId(e.tenant, 'certificate-at', endpoint);
        const prev = docs.get<CertificateDoc>('certificates', certId);
        if (cert && item.state === 'open') {
          const doc: CertificateDoc = {
            ...cert,
            id: certId,
            seq: expiryOrder(cert.notAfter),
            endpoint,
            address: item.address,
            port: item.port,
            served: 'yes',
            lastSeenAt: e.at,
          };
          writes.push({ collection: 'certificates', id: certId, doc });
        } else if (prev && prev.served === 'yes') {
          // Closed, or open without TLS: the certificate is served here no more.
          writes.push({ collection: 'certificates', id: certId, doc: { ...prev, served: 'no' } });
        }
        return writes;
      },
    },
  },
});
