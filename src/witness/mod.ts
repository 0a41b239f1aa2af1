/**
 * A C2SP tlog-witness (server, HTTP app, client) for Stockade's per-tenant logs: docs/ledger-format.md (Part II).
 */
export { addCheckpoint, type AddCheckpointOptions, type AddCheckpointResult } from './client.ts';
export { decideAddCheckpoint, type Decision, type LogRecord, type Refusal, type RefusalCode } from './decide.ts';
export { TLOG_SIZE_MEDIA_TYPE, WITNESS_MAX_BODY_BYTES, WITNESS_STATUS, buildWitnessApp, type WitnessAppOptions } from './http.ts';
export { loadOrCreateWitnessKey } from './keyfile.ts';
export { MAX_PROOF_LINES, formatAddCheckpoint, parseAddCheckpoint, type AddCheckpointRequest } from './request.ts';
export { WitnessStateStore, originHash } from './state.ts';
export { Witness, type AddCheckpointOutcome, type WitnessOptions } from './witness.ts';
