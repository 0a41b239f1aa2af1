import { configOf, type DetectionState, detectionDecider } from '../../../commands/detection/decider.ts';
import { DETECTION, DETECTION_SETTINGS_ID } from '../../../commands/detection/events.ts';
import type { DetectionDoc } from '../../../projections/detection/projection.ts';
import { fold } from '../../domain/decider.ts';
import { LEVELS } from '../../detect/types.ts';
import { loadPack } from '../../detect/pack.ts';
import { loadRule, MAX_RULE_BYTES } from '../../detect/load.ts';
import { MAX_EXCLUDE_VALUES, type RuleSetting, type TenantDetectionConfig, validateTenantConfig } from '../../detect/tenant.ts';
import type { Rule } from '../../detect/types.ts';
import { StkError } from '../../errors.ts';
import { TENANT_PREFIX, type TenantContext, type TenantRouteDef, tenantRoute } from '../route.ts';
import { ID, oneOf, TENANT_PARAM, text } from '../schemas.ts';
import { requestIfGated } from './approvals.ts';

let packOnce: Promise<Rule[]> | null = null;
/** The built-in pack, loaded once per process. */
const builtIn = (): Promise<Rule[]> => (packOnce ??= loadPack());

const RULE_PARAM = { ...TENANT_PARAM, ruleId: ID };
const EXCLUDE_VALUE = { oneOf: [{ type: 'string', maxLength: 1000 }, { type: 'number' }, { type: 'boolean' }] };
const SETTING_BODY = {
  properties: {
    enabled: { type: 'boolean' },
    level: oneOf(LEVELS),
    exclude: {
      type: 'object',
      maxProperties: 32,
      additionalProperties: { type: 'array', minItems: 1, maxItems: MAX_EXCLUDE_VALUES, items: EXCLUDE_VALUE },
    },
  },
};
const CUSTOM_BODY = {
  properties: { name: { ...text(128), pattern: '^[A-Za-z0-9._-]+$' }, yaml: { type: 'string', minLength: 1, maxLength: MAX_RULE_BYTES } },
  required: ['name', 'yaml'],
  // A 64 KiB rule can double in size as a JSON string (every line break escaped).
  maxBytes: 2 * MAX_RULE_BYTES + 4096,
};

/** The tenant's settings as the log holds them now (not the read model, which may lag a write). */
async function current(c: TenantContext): Promise<{ state: DetectionState; config: TenantDetectionConfig }> {
  const r = await c.req.server.api.log.readAggregate({ tenant: c.tenant, aggregateType: DETECTION, aggregateId: DETECTION_SETTINGS_ID });
  const state = fold(detectionDecider, r.events);
  return { state, config: configOf(state) };
}

/** Refuses a configuration with every problem (STK_ERR_DETECT_CONFIG_INVALID, 400) before anything is written. */
async function assertValid(next: TenantDetectionConfig): Promise<void> {
  const r = validateTenantConfig(await builtIn(), next);
  if (!r.ok) throw new StkError('STK_ERR_DETECT_CONFIG_INVALID', `${r.problems.length} problem(s) in the detection settings`, { problems: r.problems });
}

/** Loads an uploaded rule or refuses it with every problem, line and reason (STK_ERR_DETECT_RULE_INVALID, 400). */
function mustLoad(name: string, yaml: string): Rule {
  const r = loadRule(yaml, name);
  if (!r.ok) throw new StkError('STK_ERR_DETECT_RULE_INVALID', `${r.problems.length} problem(s) in ${name}`, { problems: r.problems });
  return r.rule;
}

/** A rule as operators see it for their tenant: what it is, and what the tenant made of it. */
function ruleView(rule: Rule, doc: DetectionDoc | null, products: readonly string[], custom: boolean, withSource: boolean) {
  const setting = doc?.rules[rule.id] ?? null;
  const enabled = setting?.enabled !== false;
  return {
    id: rule.id,
    title: rule.title,
    description: rule.description,
    status: rule.status,
    custom,
    ...(custom ? { name: doc?.custom[rule.id]?.name ?? rule.file } : {}),
    logsource: rule.logsource,
    product: rule.product ?? 'core',
    level: setting?.level ?? rule.level,
    defaultLevel: rule.level,
    tags: rule.tags,
    attack: rule.attack,
    falsepositives: rule.falsepositives,
    windowMs: rule.windowMs,
    groupBy: rule.groupBy,
    version: rule.version,
    enabled,
    /** It runs: on, and its product (if any) is on for the tenant. */
    active: enabled && (rule.product === null || products.includes(rule.product)),
    setting,
    ...(withSource ? { source: rule.source } : {}),
  };
}

function customRules(doc: DetectionDoc | null): Rule[] {
  const out: Rule[] = [];
  for (const [, r] of Object.entries(doc?.custom ?? {})) {
    const loaded = loadRule(r.yaml, r.name);
    if (loaded.ok) out.push(loaded.rule);
  }
  return out;
}

async function settingsDoc(c: TenantContext): Promise<DetectionDoc | null> {
  return c.store.get<DetectionDoc>('detection', c.tenant);
}

async function oneRule(c: TenantContext, ruleId: string, withSource: boolean) {
  const doc = await settingsDoc(c);
  const builtin = (await builtIn()).find((r) => r.id === ruleId);
  const rule = builtin ?? customRules(doc).find((r) => r.id === ruleId);
  if (!rule) throw new StkError('STK_ERR_NOT_FOUND', 'not found', { id: ruleId });
  return ruleView(rule, doc, c.tenantDoc.products, !builtin, withSource);
}

/** The answer after a change: the rule as it reads now, with the token to read it with. */
async function afterChange(c: TenantContext, ruleId: string, position: number) {
  const consistencyToken = await c.settle(position);
  return { ...(await oneRule(c, ruleId, false).catch(() => ({ id: ruleId }))), consistencyToken };
}

interface CustomRuleBody {
  name: string;
  yaml: string;
}

/**
 * Checks a custom rule against the tenant's rules as the log holds them now and writes it (the
 * one path for the API and an approved four-eyes request). `expectId` is the rule it replaces, or
 * null for a new one. Returns the rule's id and the position of the write.
 */
export async function saveCustomRule(c: TenantContext, body: CustomRuleBody, expectId: string | null): Promise<{ ruleId: string; position: number }> {
  const rule = await checkCustom(c, body, expectId);
  const r = await c.execute(detectionDecider, DETECTION_SETTINGS_ID, {
    kind: 'save-custom',
    rule: { ruleId: rule.id, name: body.name, title: rule.title, version: rule.version, yaml: body.yaml },
  });
  return { ruleId: rule.id, position: r.position };
}

async function checkCustom(c: TenantContext, body: CustomRuleBody, expectId: string | null): Promise<Rule> {
  const pack = await builtIn();
  const rule = mustLoad(body.name, body.yaml);
  const { state, config } = await current(c);
  if (expectId !== null) {
    if (!state.custom[expectId]) throw new StkError('STK_ERR_NOT_FOUND', 'not found', { id: expectId });
    if (rule.id !== expectId) {
      throw new StkError('STK_ERR_DETECT_CONFIG_INVALID', 'the rule file names another id', {
        problems: [{ path: 'id', reason: `the rule's id is ${rule.id}; replacing ${expectId} needs a file with that id` }],
      });
    }
  } else if (state.custom[rule.id] || pack.some((r) => r.id === rule.id)) {
    throw new StkError('STK_ERR_DETECT_CONFIG_INVALID', 'a rule with this id exists', {
      problems: [{ path: 'id', reason: `rule id ${rule.id} is already used; give the new rule its own id, or replace the custom rule with PUT` }],
    });
  }
  const others = Object.entries(state.custom)
    .filter(([id]) => id !== rule.id)
    .map(([, r]) => ({ name: r.name, yaml: r.yaml }));
  await assertValid({ ...config, custom: [...others, { name: body.name, yaml: body.yaml }] });
  return rule;
}

/**
 * Uploads or replaces a custom rule. Where the customer's policy gates `detection-rule-live`, a
 * rule that passes every check becomes a four-eyes request instead (202): it runs only once a
 * second person approves it.
 */
async function saveCustom(c: TenantContext<CustomRuleBody>, expectId: string | null) {
  const rule = await checkCustom(c, c.body, expectId);
  const gated = await requestIfGated(c, 'detection-rule-live', {
    kind: 'custom-rule',
    ruleId: rule.id,
    name: c.body.name,
    yaml: c.body.yaml,
    replaces: expectId,
  });
  if (gated) return gated;
  const r = await saveCustomRule(c, c.body, expectId);
  return afterChange(c, r.ruleId, r.position);
}

/** Detection: the tenant's rules (built-in and custom), their settings, custom rules uploaded. */
export const detectionRoutes: TenantRouteDef[] = [
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/detection/rules`,
    permission: 'detection.read',
    area: 'detection',
    summary: "The tenant's detection rules: the built-in pack and custom rules, with their settings and whether each runs",
    params: TENANT_PARAM,
    query: { logsource: text(64), custom: oneOf(['true', 'false']) },
    handler: async (c: TenantContext<unknown, { logsource?: string; custom?: string }>) => {
      const token = c.readToken();
      const doc = await settingsDoc(c);
      const items = [
        ...(await builtIn()).map((r) => ruleView(r, doc, c.tenantDoc.products, false, false)),
        ...customRules(doc).map((r) => ruleView(r, doc, c.tenantDoc.products, true, false)),
      ].filter(
        (r) => (c.query.logsource === undefined || r.logsource === c.query.logsource) && (c.query.custom === undefined || String(r.custom) === c.query.custom),
      );
      return { items, nextCursor: null, consistencyToken: token };
    },
  }),
  tenantRoute({
    method: 'GET',
    url: `${TENANT_PREFIX}/detection/rules/:ruleId`,
    permission: 'detection.read',
    area: 'detection',
    summary: 'One rule with its YAML source and the tenant setting',
    params: RULE_PARAM,
    handler: async (c: TenantContext<unknown, unknown, { ruleId: string }>) => oneRule(c, c.params.ruleId, true),
  }),
  tenantRoute({
    method: 'PUT',
    url: `${TENANT_PREFIX}/detection/rules/:ruleId/setting`,
    permission: 'detection.manage',
    area: 'detection',
    summary: 'Tune a rule for this tenant: on/off (core rules are always on), level, exclusions by field value; replaces the setting',
    params: RULE_PARAM,
    body: SETTING_BODY,
    handler: async (c: TenantContext<RuleSetting, unknown, { ruleId: string }>) => {
      const { ruleId } = c.params;
      await oneRule(c, ruleId, false);
      const { config } = await current(c);
      await assertValid({ ...config, rules: { ...config.rules, [ruleId]: c.body } });
      const r = await c.execute(detectionDecider, DETECTION_SETTINGS_ID, { kind: 'configure', ruleId, setting: c.body });
      return afterChange(c, ruleId, r.position);
    },
  }),
  tenantRoute({
    method: 'DELETE',
    url: `${TENANT_PREFIX}/detection/rules/:ruleId/setting`,
    permission: 'detection.manage',
    area: 'detection',
    summary: "Back to the rule's own behaviour for this tenant",
    params: RULE_PARAM,
    handler: async (c: TenantContext<unknown, unknown, { ruleId: string }>) => {
      await oneRule(c, c.params.ruleId, false);
      const r = await c.execute(detectionDecider, DETECTION_SETTINGS_ID, { kind: 'reset', ruleId: c.params.ruleId });
      return afterChange(c, c.params.ruleId, r.position);
    },
  }),
  tenantRoute({
    method: 'POST',
    url: `${TENANT_PREFIX}/detection/custom-rules`,
    permission: 'detection.manage',
    area: 'detection',
    status: 201,
    fourEyes: true,
    summary: 'Upload a custom rule (YAML, the Sigma subset of docs/detection.md); a bad rule is refused with every problem and its line',
    params: TENANT_PARAM,
    body: CUSTOM_BODY,
    handler: (c: TenantContext<CustomRuleBody>) => saveCustom(c, null),
  }),
  tenantRoute({
    method: 'PUT',
    url: `${TENANT_PREFIX}/detection/custom-rules/:ruleId`,
    permission: 'detection.manage',
    area: 'detection',
    fourEyes: true,
    summary: 'Replace a custom rule with a new version (same id)',
    params: RULE_PARAM,
    body: CUSTOM_BODY,
    handler: (c: TenantContext<CustomRuleBody, unknown, { ruleId: string }>) => saveCustom(c, c.params.ruleId),
  }),
  tenantRoute({
    method: 'DELETE',
    url: `${TENANT_PREFIX}/detection/custom-rules/:ruleId`,
    permission: 'detection.manage',
    area: 'detection',
    summary: 'Remove a custom rule (and its setting)',
    params: RULE_PARAM,
    handler: async (c: TenantContext<unknown, unknown, { ruleId: string }>) => {
      const r = await c.execute(detectionDecider, DETECTION_SETTINGS_ID, { kind: 'remove-custom', ruleId: c.params.ruleId });
      return { id: c.params.ruleId, removed: true, consistencyToken: await c.settle(r.position) };
    },
  }),
];
