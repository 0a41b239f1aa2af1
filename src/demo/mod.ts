// The demo book (`stockade demo seed|reset`): a believable MSP's customers, made through the API and
// the ingress only, deterministic for a seed, and removable again (docs/operator-manual.md, "Demo data").
export { DEFAULT_CUSTOMERS, DEFAULT_SEED, DEMO_TENANT_PREFIX, MAX_CUSTOMERS, planBook, type DemoBook } from './book.ts';
export { DEMO_EMAIL_SUFFIX, isDemoEmail, MARKER_LABEL, survey } from './marking.ts';
export { DEMO_PASSWORD } from './names.ts';
export { resetDemo, type ResetOptions, type ResetSummary } from './reset.ts';
export { type Seeded, type SeedOptions, type SeedSummary, seedDemo } from './seed.ts';
export { type DemoTarget, targetOfDataDir, targetOfFlags } from './target.ts';
