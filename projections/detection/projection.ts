import { type CustomRuleRemoved, type CustomRuleSaved, DetectionEvents as E, type RuleConfigured, type RuleReset } from '../../commands/detection/events.ts';
import type { EventEnvelope } from '../../src/domain/events.ts';
import type { RuleSetting } from '../../src/detect/tenant.ts';
import type { Doc, Docs, Write } from '../../src/store/model.ts';
import { by, defineProjection } from '../define.ts';

/** A custom rule as the read model keeps it: the uploaded text and who saved it when. */
export interface CustomRuleDoc {
  name: string;
  title: string;
  version: string;
  yaml: string;
  savedAt: string;
  savedBy: string;
}

/** A tenant's detection settings: one document in collection `detection`, its id the tenant's (like the tenant profile's). */
export interface DetectionDoc extends Doc {
  rules: Record<string, RuleSetting & { changedAt: string; changedBy: string }>;
  custom: Record<string, CustomRuleDoc>;
  updatedAt: string | null;
}

const COLLECTION = 'detection';
const reads = (e: EventEnvelope) => [{ collection: COLLECTION, id: e.tenant }];

function change(e: EventEnvelope, docs: Docs, seq: number, f: (d: DetectionDoc) => DetectionDoc): Write[] {
  const d = docs.get<DetectionDoc>(COLLECTION, e.tenant) ?? { id: e.tenant, seq, rules: {}, custom: {}, updatedAt: null };
  return [{ collection: COLLECTION, id: e.tenant, doc: { ...f(d), updatedAt: e.at } }];
}

/** Detection settings: rule overrides and custom rules, as the API shows them. The history is in the audit trail and the ledger. */
export const detectionProjection = defineProjection({
  model: 'detection',
  main: COLLECTION,
  collections: { [COLLECTION]: { indexes: [] } },
  on: {
    [E.ruleConfigured]: {
      reads,
      apply: (e, docs, seq) =>
        change(e, docs, seq, (d) => {
          const x = e.data as RuleConfigured;
          return { ...d, rules: { ...d.rules, [x.ruleId]: { ...x.setting, changedAt: e.at, changedBy: by(e) } } };
        }),
    },
    [E.ruleReset]: {
      reads,
      apply: (e, docs, seq) =>
        change(e, docs, seq, (d) => {
          const { [(e.data as RuleReset).ruleId]: _gone, ...rules } = d.rules;
          return { ...d, rules };
        }),
    },
    [E.customRuleSaved]: {
      reads,
      apply: (e, docs, seq) =>
        change(e, docs, seq, (d) => {
          const { ruleId, ...r } = e.data as CustomRuleSaved;
          return { ...d, custom: { ...d.custom, [ruleId]: { ...r, savedAt: e.at, savedBy: by(e) } } };
        }),
    },
    [E.customRuleRemoved]: {
      reads,
      apply: (e, docs, seq) =>
        change(e, docs, seq, (d) => {
          const { [(e.data as CustomRuleRemoved).ruleId]: _gone, ...custom } = d.custom;
          return { ...d, custom };
        }),
    },
  },
});
