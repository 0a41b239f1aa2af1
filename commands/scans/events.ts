import type { Product } from '../../src/domain/products.ts';

/**
 * Scan runs: aggregate `scan`, one per run. A run the server's scanner makes starts as a request
 * (`scan.requested`) and ends refused or completed; a run an agent makes is recorded when it is
 * sealed. A sealed run's items are in the SCANS stream (src/scan/runs/stream.ts), and its
 * `scan.completed` event carries their Merkle root and count, so the ledger seals them.
 */
export const SCAN = 'scan';

export const ScanEvents = {
  requested: 'scan.requested',
  refused: 'scan.refused',
  completed: 'scan.completed',
} as const;

/** A port (`443`) or an inclusive range (`"8000-8100"`). */
export type PortSpec = number | string;

/** Network behaviour a scan asks for (see ScanOptions in src/scan/scan.ts). */
export interface ScanRequestOptions {
  concurrency?: number;
  ratePerSecond?: number;
  connectTimeoutMs?: number;
  probeTimeoutMs?: number;
  services?: boolean;
  tls?: boolean;
  cipherEnumeration?: boolean;
}

/** An operator asks the server's scanner role to scan declared targets. */
export interface ScanRequested {
  source: 'scanner';
  targets: string[];
  ports: PortSpec[];
  options: ScanRequestOptions;
}

/** The scanner refused the request before sending anything (the allowlist changed, a name resolved outside it…). */
export interface ScanRefused {
  code: string;
  message: string;
  problems: Array<{ target: string; reason: string; detail: string; address?: string }>;
}

/** A listening socket on an agent's host, with its owning process (`listeningServices`). */
export interface ServiceFact {
  protocol: string;
  address: string;
  port: number;
  pid: number | null;
  exe: string | null;
  name: string | null;
  user: string | null;
}

/** What a run changed against the previous run of its scope. */
export interface RunDiff {
  /** `address:port` open now that the previous run saw closed or filtered. */
  opened: string[];
  /** `address:port` the previous run saw open and this one did not. */
  closed: string[];
  /** Finding dedup keys (see diffFindings). */
  findings: { new: string[]; stillOpen: string[]; remediated: string[]; unobserved: string[] };
  /** Endpoints open in both runs whose certificate changed (absent on runs sealed before it was recorded). */
  certificates?: CertificateChange[];
  /** A list was cut at its bound (see RUN_DIFF_MAX). */
  truncated: boolean;
}

/** The certificate facts a run's diff names. */
export interface CertificateSummary {
  sha256: string;
  subject: string;
  notAfter: string;
  selfSigned: boolean;
}

/** An endpoint that served another certificate (or none) at the previous run than at this one. */
export interface CertificateChange {
  endpoint: string;
  from: CertificateSummary | null;
  to: CertificateSummary | null;
}

export interface ScanCompleted {
  /** The agent that scanned; `scanner` for the server's scanner role. */
  agentId: string;
  product: Product;
  /** Hex SHA-256 RFC 6962 root over the run's items, in the defined order. */
  merkleRoot: string;
  itemCount: number;
  startedAt: string;
  finishedAt: string;
  // A run whose items are stored (every run since items are kept); absent on the older `scan-run` report kind.
  source?: 'agent' | 'scanner';
  /** The run-scan command the run answers. */
  commandId?: string | null;
  targets?: string[];
  ports?: PortSpec[];
  /** The scope the run advanced, and the run before it in that scope. */
  scopeId?: string;
  previousRunId?: string | null;
  /** SCANS sequences of the first and last item. */
  firstSeq?: number;
  lastSeq?: number;
  aborted?: boolean;
  counts?: { open: number; closed: number; filtered: number; tls: number };
  diff?: RunDiff;
  /** The agent host's listening services when the run was made. */
  services?: ServiceFact[];
}
