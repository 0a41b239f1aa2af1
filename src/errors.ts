/**
 * The one catalogue of errors a Stockade user can see. Codes never change once released; the
 * descriptions here are the source of `docs/errors.md` (a test keeps the two in step).
 * HTTP statuses are chosen in the HTTP layer (src/http/errors.ts), not here.
 */
export const ERRORS = {
  STK_ERR_INVALID_ID:
    'An id is not of the allowed form (tenant `^[a-z0-9][a-z0-9-]{0,62}$`, other ids `[A-Za-z0-9_-]{1,64}`). Rejected before it can reach a NATS subject.',
  STK_ERR_VALIDATION: 'A request or command failed validation (schema, unknown field, size limit).',
  STK_ERR_LOG_VERSION_CONFLICT: 'An append expected one aggregate version and found another: someone else wrote first. Carries `expected` and `actual`.',
  STK_ERR_LOG_UNAVAILABLE: 'The event log (NATS JetStream) could not be reached or did not answer in time.',
  STK_ERR_LOG_CORRUPT_RECORD: 'A stored record of the event log could not be decoded.',
  STK_ERR_LOG_SCHEMA_UNKNOWN: 'An event payload has a schema version newer than this build can read.',
  STK_ERR_NATS_UNREACHABLE: 'NATS could not be reached at start-up.',
  STK_ERR_NATS_SERVER_START: 'The embedded nats-server child could not be started.',
  STK_ERR_NATS_SERVER_MISSING: 'No nats-server binary was found; `sh infra/ensure-nats.sh` installs it.',
  STK_ERR_DATA_LOCKED: 'Another Stockade process is already running on this data folder.',
  STK_ERR_CONFIG: 'A configuration value (flag or STOCKADE_* variable) is invalid.',
  STK_ERR_NOT_FOUND: "No such resource. Also the answer for another tenant's resource, so existence is never revealed across tenants.",
  STK_ERR_BODY_TOO_LARGE: 'The request body is larger than the route allows.',
  STK_ERR_UNSUPPORTED_MEDIA: 'The request body is not JSON.',
  STK_ERR_AUTH_REQUIRED: 'No valid credential was presented.',
  STK_ERR_FORBIDDEN: 'The credential is valid but may not do this.',
  STK_ERR_RATE_LIMITED: 'Too many requests; retry after the time in `Retry-After`.',
  STK_ERR_UNAVAILABLE: 'A dependency is down or the system is shedding load; retry after the time in `Retry-After`.',
  STK_ERR_PROJECTION_BEHIND: 'A read asked to wait for a position (read-your-writes) that the read models did not reach within the bounded wait; retry.',
  STK_ERR_TENANT_EXISTS: 'A tenant with this id already exists.',
  STK_ERR_INVALID_TRANSITION: 'The item is not in a state that allows this change (for example closing a closed incident). Carries `actual`.',
  STK_ERR_PRODUCT_DISABLED:
    'The product this route, report kind or command action belongs to (edr, identity, attack-surface, patch) is off for the tenant. Carries `product`.',
  STK_ERR_TENANT_SUSPENDED: 'The tenant is suspended: its agents are refused at the ingress and its enrollment secret enrolls nothing.',
  STK_ERR_PKI_CSR_INVALID:
    'A certificate signing request is not a PEM PKCS#10 request or its signature does not verify with its own key (no proof of possession).',
  STK_ERR_PKI_KEY_REFUSED: 'The key in a certificate signing request is of a refused type or size (accepted: ECDSA P-256/P-384, Ed25519, RSA ≥ 2048).',
  STK_ERR_ENROLL_SECRET_INVALID: "Invalid or missing enrollment secret. The same answer whatever the reason (wrong, rotated, unknown, another tenant's).",
  STK_ERR_AGENT_CERT_INVALID:
    "The agent request has no client certificate from this install's CA, or it is expired, or no enrolled agent matches it, or a renewal replaced it (reason CERT_SUPERSEDED).",
  STK_ERR_AGENT_ID_MISMATCH: "The `agentId` in the request does not match the client certificate's CN.",
  STK_ERR_AGENT_REVOKED: 'The agent is revoked: its certificate is refused even before it expires, and it takes no new commands.',
  STK_ERR_AGENT_COMMAND_COMPLETED: 'The agent command already has a result; a result is posted once (a retry of the same result is accepted).',
  STK_ERR_AGENT_HOST_UNREADABLE:
    'An agent collector could not read the host files it needs under its host root (`/proc` or `/proc/stat` missing, an /etc file unreadable or absurdly large, `getconf CLK_TCK` failing). Carries `path` or `tool`.',
  STK_ERR_AGENT_STATE_CORRUPT: "A file in the agent's state folder is not what the agent wrote (unparsable JSON, unknown version). Carries `file`.",
  STK_ERR_AGENT_STATE_IO: "The agent's state folder or disk spool could not be written or read (disk full, permissions). Carries `path`.",
  STK_ERR_LEDGER_CORRUPT: 'A message of the LEDGER stream (block, key record, checkpoint) is not of the documented format.',
  STK_ERR_LEDGER_FOREIGN_HEAD: 'The sealer refuses to extend a chain whose stored head (or key record) it did not sign with its own keys.',
  STK_ERR_LEDGER_KEY: 'The ledger signing keyring is missing, unreadable or invalid.',
  STK_ERR_LEDGER_CHECKPOINT:
    "A checkpoint file is unreadable or not a tenant's checkpoint note, or the sealer refuses to sign a checkpoint that would contradict the one already stored for the tenant.",
  STK_ERR_BACKUP_UNRECORDED:
    "A backup or restore finished but could not be recorded as an event in each tenant's log (the NATS user may not append events, or the bus failed): its files are complete; run it as a user that may append (app).",
  STK_ERR_LEDGER_UNSEALED:
    'The event is stored but not yet in a signed block, so there is no proof of it yet: ask again once it is sealed (within the sealing window, 250 ms by default).',
  STK_ERR_LEDGER_BROKEN:
    "A tenant's ledger does not verify (an edited, removed or reordered record, a bad block, a checkpoint it no longer extends): an export writes the break into its manifest and fails with this code.",
  STK_ERR_BACKUP_CORRUPT:
    'A backup folder is not a Stockade backup, or a file in it does not match the SHA-256 or the counts its manifest records; nothing is restored from it.',
  STK_ERR_RESTORE_TARGET_EXISTS:
    'A restore found the EVENTS or LEDGER stream already present on the target NATS; it restores only into a NATS where neither exists yet.',
  STK_ERR_RESTORE_MISMATCH:
    'A restored stream does not hold what the backup holds (a message stored out of order, dropped as a duplicate, or a count or content digest that differs from the manifest).',
  STK_ERR_RESTORE_UNHONOURED:
    'A restore is complete and checked, but the erasures and offboardings the key store keeps could not all be honoured again (the NATS user may not read the key store or append events, or the bus failed): what was erased after the backup may be readable in TELEMETRY, SCANS, PACKAGES or evidence; run `stockade restore --honour-erasures-only` as the app user before starting Stockade.',
  STK_ERR_NOTIFY_SECRET_UNREADABLE:
    "A notification channel's sealed secrets do not open: malformed, sealed with a key the install no longer holds, bound to another tenant or channel, or altered. Carries `keyId`.",
  STK_ERR_PATCH_PACKAGE_INVALID:
    'A package name given to install-patches is not a Debian package name (`[a-z0-9][a-z0-9+.-]+`, optionally `:<arch>`); refused before any command runs. Carries `package`.',
  STK_ERR_PATCH_ROOT_INVALID:
    'The host root given to the patch agent is not an absolute folder holding a dpkg database (`var/lib/dpkg/status`), or its path cannot be written into an apt configuration safely. Carries `root`.',
  STK_ERR_PATCH_TOOL_MISSING:
    'A package tool the patch agent runs (dpkg-query, apt-get, apt-cache, dpkg-deb) is not installed: not a Debian-family host. Carries `command`.',
  STK_ERR_PATCH_TOOL_FAILED:
    'A package tool failed while taking an inventory (dpkg database unreadable, apt lists corrupt, apt lock held past the wait). Carries `command`, `exitCode` and the tail of its output.',
  STK_ERR_PATCH_WINDOW_INVALID:
    'A maintenance window is malformed: no days, an unknown day, a time not `HH:MM`, equal start and end, or an unknown IANA time zone. Carries `field`.',
  STK_ERR_SCAN_TARGET_INVALID:
    'A scan target or allowlist entry is not an IP address, a CIDR block (at most /16 for IPv4, /112 for IPv6, no host bits set) or a hostname. Carries `problems`.',
  STK_ERR_SCAN_TARGET_REFUSED:
    'A scan target lies outside the tenant allowlist, resolves (even in part) to an address outside it, or touches a block no scan may reach. Nothing was sent. Carries `problems`.',
  STK_ERR_SCAN_TOO_LARGE: 'A scan request names more address × port pairs than the configured bound. Carries `problems`.',
  STK_ERR_SCAN_PLAN_UNCHECKED: 'A scan was started with a plan that did not come from the allowlist check; nothing was sent.',
  STK_ERR_SCAN_DATA_INVALID: 'The known-vulnerable banner list is not of the documented format (an entry, pattern or version range is malformed).',
  STK_ERR_SCAN_RUN_CONFLICT:
    'A scan run id was already sealed with other items (another Merkle root or count), or its items were stored differently before; nothing was written. Carries `expected` and `actual`.',
  STK_ERR_SCAN_RUN_INCOMPLETE:
    'A scan run was sealed before all of its items were stored (an index between 0 and the count is missing, or the count is above what was sent). Send the missing parts, then seal again. Carries `expected` and `actual`.',
  STK_ERR_SCAN_ROOT_MISMATCH:
    'The Merkle root an agent sent for its scan run is not the root of the items stored for it (RFC 6962 over their canonical JSON, in the defined order), or the items are not in that order. Nothing was sealed. Carries `expected` and `actual`.',
  STK_ERR_SCAN_PROOF_UNAVAILABLE:
    'No inclusion proof can be made for this scan item: its run was never sealed, or items of the run are no longer retained in SCANS.',
  STK_ERR_SCAN_PROOF_INVALID:
    'A scan item proof does not verify offline: the item does not hash to the leaf, the audit path does not lead to the root, or the root, count or run are not those of the sealed `scan.completed` event. Carries `reason`.',
  STK_ERR_DETECT_RULE_INVALID:
    'A detection rule is outside the accepted Sigma subset (docs/detection.md) or malformed. Carries `problems`: every refusal with its `file`, `line`, `col`, `path` and `reason`.',
  STK_ERR_DETECT_CONFIG_INVALID:
    "A tenant's detection settings name an unknown rule or field, turn off a core rule, or hold a custom rule that does not load. Carries `problems` (`path`, `reason`, and the line for rule files).",
  STK_ERR_MERKLE_RANGE:
    'A Merkle tree operation named a size or index the tree does not have (a size above the tree size, an index not below the size). Carries `field`, `actual` and `size`.',
  STK_ERR_MERKLE_STORE: "A Merkle tree's leaf hash file is shorter than the tree or unreadable.",
  STK_ERR_NOTE_INVALID:
    'A signed note, checkpoint, cosignature or verifier key (C2SP signed-note, tlog-checkpoint, tlog-cosignature) is not of the specified form, or cannot be produced (text without a final newline, key name with a space or `+`).',
  STK_ERR_WITNESS_MALFORMED:
    'An add-checkpoint request is not of the tlog-witness form (old size line, proof lines, blank line, checkpoint note), or its old size is above the checkpoint size. The witness answers 400.',
  STK_ERR_WITNESS_UNKNOWN_LOG: 'The checkpoint origin is not a log this witness is configured for. The witness answers 404.',
  STK_ERR_WITNESS_SIGNATURE:
    "The checkpoint carries no valid signature from the log's configured key(s), or a signature line of a configured key does not verify. The witness answers 403.",
  STK_ERR_WITNESS_CONFLICT:
    'The old size of an add-checkpoint request is not the size of the last checkpoint the witness cosigned for the log (a rollback, a race, or a stale client). The witness answers 409 with that size; carries `actual`.',
  STK_ERR_WITNESS_INCONSISTENT:
    'The checkpoint does not extend the one the witness cosigned last: the consistency proof does not verify, the same size has another root, a proof came with old size 0, or a size-0 checkpoint has a root other than the empty root. The witness answers 422.',
  STK_ERR_WITNESS_KEY:
    'The witness key file is missing, unreadable, readable by others than its owner, or not a witness key (or names another witness than `--name`).',
  STK_ERR_WITNESS_STATE: "A witness state file is unreadable or not the witness's state (origin mismatch, malformed JSON); the witness does not start over it.",
  STK_ERR_WITNESS_UNAVAILABLE: 'A witness could not be reached, or answered outside the tlog-witness protocol (a 5xx, an unexpected status or body).',
  STK_ERR_DIRECTORY_INSECURE:
    'A directory (LDAP) URL would send the bind password in the clear: `ldap://` without StartTLS. The collector binds only over `ldaps://` or `ldap://` with `startTls`.',
  STK_ERR_DIRECTORY_TLS:
    "The directory's TLS handshake failed: its certificate is not signed by the configured CA, does not name the configured server, or the server refused StartTLS. Carries `reason` (the TLS error code).",
  STK_ERR_DIRECTORY_BIND:
    "The directory refused the bind of the configured account (wrong password, disabled, expired, locked). Carries `resultCode` and AD's `reason` (for example `invalid-credentials`).",
  STK_ERR_DIRECTORY_UNREACHABLE: 'The directory (LDAP server) could not be reached, or did not answer within the configured time.',
  STK_ERR_DIRECTORY_OPERATION:
    'The directory answered a search or modification with an LDAP error. Carries `resultCode`, `resultName` and its `diagnostic` message.',
  STK_ERR_TENANT_RESERVED:
    'The tenant id is reserved for Stockade itself (ids starting with `stk-`, such as the install tenant `stk-install` that holds users and install settings).',
  STK_ERR_USER_EXISTS: 'A user with this e-mail (or id) already exists.',
  STK_ERR_INVITATION_INVALID: 'The invitation cannot be used: unknown, already used, replaced by a newer one, or expired. Nothing was written.',
  STK_ERR_PASSWORD_WEAK:
    'The password does not meet the policy (12 to 256 characters, not a common password, not a plain sequence, not containing the name or e-mail). Carries `reason`. Nothing was written.',
  STK_ERR_ACCOUNT_LOCKED: 'Too many failed sign-ins for this account (counted across every API process); wait the time in `Retry-After`.',
  STK_ERR_MFA_REQUIRED:
    'A second factor is needed: give the TOTP or a recovery code to sign in; or, signed in without MFA where the install requires it, set MFA up first (only your own MFA set-up is reachable).',
  STK_ERR_MFA_INVALID: 'The TOTP or recovery code is wrong (or the recovery code was used already).',
  STK_ERR_MFA_REPLAYED: 'The TOTP code was used already (a code works once, on every process); wait for the next one.',
  STK_ERR_TOKEN_EXPIRY_TOO_LONG: "The API token's requested lifetime is longer than the install's maximum. Carries `limit`.",
  STK_ERR_APPROVAL_SELF:
    'A four-eyes request was approved or rejected by the person who asked for it (also through another session or token of theirs); it needs a second person. Nothing was written.',
  STK_ERR_APPROVAL_EXPIRED: 'The four-eyes request expired before a second person decided it; ask again. Nothing was written.',
  STK_ERR_SSO_FAILED:
    'Single sign-on did not complete: no provider configured, a state or nonce that does not match, a code the provider refused, or an ID token that does not verify.',
  STK_ERR_VIDEO_SPEC_INVALID:
    'A video spec (`docs/videos/specs/NN-name.yaml`) is not valid YAML or does not follow the spec schema. Carries `file`, `step` (1-based, or null for the top level) and `field`.',
  STK_ERR_VIDEO_TOOL_MISSING:
    'A tool the video pipeline needs is not installed: ffmpeg/ffprobe, chromium, or any voice (Piper, Festival with an HTS voice, flite, espeak-ng). Carries `tool` and the Debian `package`.',
  STK_ERR_VIDEO_SIGN_IN_FAILED: 'The video pipeline could not sign in to the dashboard with the credential it was given. Carries `url`.',
  STK_ERR_VIDEO_STEP_FAILED:
    'A step of a video spec could not be played against the dashboard (a page that did not open, a selector that never appeared). Carries `file`, `step`, `action` and `selector`.',
  STK_ERR_VIDEO_RENDER_FAILED: 'ffmpeg, ffprobe or a voice engine failed while rendering a video. Carries `tool`, `exitCode` and the end of its error output.',
  STK_ERR_VIDEO_CHECK_FAILED:
    'A rendered video failed one of the checks (streams, duration, loudness, subtitle timing, frames, pointer). Carries `file` and the failed `checks`.',
  STK_ERR_DEMO_PRESENT:
    '`stockade demo seed` found the demo already in the install (tenants with its prefix); nothing was written. Run `stockade demo reset` first. Carries `tenants`.',
  STK_ERR_DEMO_FOREIGN_DATA:
    '`stockade demo seed` found customers it did not make (or a default tenant that holds data); nothing was written. `--force` adds the demo beside them. Carries `tenants`.',
  STK_ERR_DEMO_STALLED:
    'The install did not show what the demo sent within the wait (alerts the detector raises, a command reaching its agent, evidence stored); is every role running? Carries `tenant`, `what` and `waitedMs`.',
  STK_ERR_BULK_TOO_LARGE:
    'A change by filter would select more items than one call may (100,000 alerts or findings; 10,000 alerts linked to one incident); nothing was changed. Narrow the filter (a time range, a severity, a host). Carries `limit`.',
  STK_ERR_EXPORT_TOO_LARGE: 'An export would hold more rows than one export may (100,000); narrow the filter (a time range, a status). Carries `limit`.',
  STK_ERR_TELEMETRY_ROOT_MISMATCH:
    'The Merkle root a telemetry batch carries is not the RFC 6962 root of its items (canonical JSON, in batch order); nothing of the batch was written. Carries `expected` (the root of the items sent) and `actual` (the root sent).',
  STK_ERR_TELEMETRY_BATCH_CONFLICT:
    'A telemetry batch id was sent again with other items: a batch of that id with another Merkle root is already sealed. Nothing was written; send new items under a new batch id.',
  STK_ERR_TELEMETRY_PROOF_UNAVAILABLE:
    'No inclusion proof can be given for this telemetry item: items of its batch are no longer in TELEMETRY (dropped by retention), or its batch was never sealed.',
  STK_ERR_EVIDENCE_HASH_MISMATCH:
    'The bytes of an evidence upload do not have the SHA-256 the agent declared for them; nothing was stored. Carries `expected` (declared) and `actual` (of the bytes received).',
  STK_ERR_EVIDENCE_CONTENT_MISSING:
    'The evidence has no stored bytes to download (it was reported by hash only, or its bytes were removed from the object store).',
  STK_ERR_EVIDENCE_INTEGRITY:
    'The stored bytes of the evidence no longer have the SHA-256 sealed in the ledger when it was collected; the download is refused and nothing is recorded.',
  STK_ERR_EVIDENCE_ERASED:
    'The stored bytes of the evidence are encrypted under a key that was destroyed (its machine was erased, or its month aged out by retention): they can never be read again. Its sealed hash and custody trail stay. Carries `id`.',
  STK_ERR_TENANT_ID_RESERVED:
    'The tenant id belonged to a customer that was offboarded: its signed chain still names it, so the id can never be given to another tenant.',
  STK_ERR_TENANT_DELETED: 'The tenant was offboarded: its keys are destroyed, so nothing personal can be written for it any more. Carries `tenant`.',
  STK_ERR_KEYSTORE_UNAVAILABLE:
    'The key store (NATS KV buckets `stk-tenant-keys`, `stk-data-keys`) could not be read or written, so personal fields can be neither sealed nor revealed; retry.',
  STK_ERR_SUBJECT_INVALID:
    'A data subject is not of the form `agent:<agentId>`, `account:<name>`, `person:<name or e-mail>` or `user:<userId>` (1 to 256 characters, no control characters). Carries `field`.',
  STK_ERR_OFFBOARD_CONFIRM: 'Deleting a tenant needs `confirm` set to the tenant id in the body; nothing was changed. Carries `field`.',
  STK_ERR_AGENT_COMMAND_TTL: "An agent command asked to wait longer than its action's maximum (`--command-expiry`). Carries `field` and `limit` (seconds).",
  STK_ERR_AGENT_COMMAND_EXPIRED: 'The agent command expired before it was delivered: the agent must not run it.',
  STK_ERR_ENROLL_MACHINE_BLOCKED:
    'This machine (the `machine` fingerprint sent at enrollment) was blocked when one of its agents was revoked; an admin must lift the block before it enrolls again.',
  STK_ERR_INTERNAL: 'An unexpected fault. The response carries a request id to find it in the logs.',
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** Data an error carries besides its code: the ids, positions and values that explain it. */
export type ErrorData = Record<string, unknown>;

/** A Stockade error: a stable `code`, structured `data`, and the underlying `cause` if any. */
export class StkError extends Error {
  readonly code: ErrorCode;
  readonly data: ErrorData;

  constructor(code: ErrorCode, message?: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(message ?? ERRORS[code], options);
    this.name = 'StkError';
    this.code = code;
    this.data = data;
  }

  toJSON(): { code: ErrorCode; message: string; data: ErrorData } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** True when `err` is a StkError, and of `code` when one is given. */
export function isStkError(err: unknown, code?: ErrorCode): err is StkError {
  return err instanceof StkError && (code === undefined || err.code === code);
}
