/**
 * Machines an admin has blocked from enrolling again: aggregate `machine`, id = the machine
 * fingerprint an agent sends at enrollment (hex SHA-256 of its machine id and the install's CA,
 * see src/agent/machine.ts), under the tenant's subjects.
 */
export const MACHINE = 'machine';

export const MachineEvents = {
  blocked: 'machine.blocked',
  unblocked: 'machine.unblocked',
} as const;

/** A fingerprint: 64 lower-case hex digits (a SHA-256), so it is a token-safe aggregate id. */
export const MACHINE_FINGERPRINT_PATTERN = '^[0-9a-f]{64}$';

export interface MachineBlocked {
  /** The revoked agent whose revocation blocked the machine. */
  agentId: string;
}
export interface MachineUnblocked {
  /** The agent the block came from, for the audit trail. */
  agentId: string;
}
