import { SETTINGS, type SettingDef } from './settings.ts';

/** Markers around the generated table in README.md. */
export const CONFIG_TABLE_START = '<!-- config:start -->';
export const CONFIG_TABLE_END = '<!-- config:end -->';

const SECTION_TITLES: Record<SettingDef<unknown>['section'], string> = {
  core: 'every process',
  api: 'api role',
  ingress: 'ingress role',
  backpressure: 'ingress role: backpressure',
  telemetry: 'ingress, api and projector roles: telemetry and evidence',
  ledger: 'sealer role and `stockade sealer`',
  sealer: '`stockade sealer`',
  detector: 'detector role (and the api role, for channels)',
  lifecycle: 'api, ingress, projector and lifecycle roles',
};

/** The README's configuration table, generated from the settings table. */
export function configTable(): string {
  const rows = (Object.values(SETTINGS) as SettingDef<unknown>[]).map((d) => {
    const flag = d.flag ? `\`${d.flag.name} ${d.flag.arg}\`` : '';
    const env = d.env ? `\`${d.env}\`` : '';
    return `| ${flag} | ${env} | ${d.defaultText} | ${SECTION_TITLES[d.section]} | ${d.description.replace(/\|/g, '\\|')} |`;
  });
  return [CONFIG_TABLE_START, '| flag | variable | default | read by | meaning |', '|---|---|---|---|---|', ...rows, CONFIG_TABLE_END].join('\n');
}
