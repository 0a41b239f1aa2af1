export * from './ca.ts';
export * from './csr.ts';
export * from './agent-key.ts';
export * from './issuer.ts';
