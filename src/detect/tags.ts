/**
 * Tag validation. Every tag follows Sigma's syntax (`namespace.value`, lower-case letters, digits,
 * `_`, `-`, dots); the `attack` namespace is checked against ATT&CK's id forms and tactic names,
 * so `attack.t1059.4` or `attack.defense_evasion` (the Sigma v1 spelling) are refused.
 */

const TAG = /^[a-z0-9_-]+\.[a-z0-9._-]+$/;
const TECHNIQUE = /^t(\d{4})(\.\d{3})?$/;
const OTHER_ATTACK_IDS = /^(g|s|m|ds|a)\d{4}$/;
/** ATT&CK Enterprise tactics, as Sigma v2 spells them. */
export const TACTICS = [
  'reconnaissance',
  'resource-development',
  'initial-access',
  'execution',
  'persistence',
  'privilege-escalation',
  'defense-evasion',
  'credential-access',
  'discovery',
  'lateral-movement',
  'collection',
  'command-and-control',
  'exfiltration',
  'impact',
] as const;

/** The reason `tag` is refused, or the ATT&CK technique id it names (`T1059.004`) if any. */
export function checkTag(tag: string): string | { technique: string | null } {
  if (!TAG.test(tag)) return `tag ${JSON.stringify(tag)} is not of the form namespace.value (lower-case letters, digits, _ - .)`;
  const dot = tag.indexOf('.');
  if (tag.slice(0, dot) !== 'attack') return { technique: null };
  const value = tag.slice(dot + 1);
  if (TECHNIQUE.test(value)) return { technique: value.toUpperCase() };
  if (OTHER_ATTACK_IDS.test(value) || (TACTICS as readonly string[]).includes(value)) return { technique: null };
  if (TACTICS.some((t) => t.replaceAll('-', '_') === value))
    return `tag ${tag}: ATT&CK tactics are spelled with hyphens in Sigma v2 (attack.${value.replaceAll('_', '-')})`;
  return `tag ${tag} is not an ATT&CK technique (attack.t1234 or attack.t1234.001), tactic, group, software, mitigation or data source id`;
}
