import { ASM_DEFAULTS, AsmEvents as E, type AsmSettings } from '../../commands/attack-surface/events.ts';
import type { Doc } from '../../src/store/model.ts';
import { defineProjection } from '../define.ts';

export type AsmSettingsDoc = Doc & AsmSettings & { updatedAt: string };

/** A tenant's attack-surface settings (the declared targets, the expiry threshold), id = the tenant. */
export const attackSurfaceProjection = defineProjection({
  model: 'attack-surface',
  main: 'asm-settings',
  collections: { 'asm-settings': { indexes: [] } },
  on: {
    [E.settingsChanged]: {
      reads: (e) => [{ collection: 'asm-settings', id: e.tenant }],
      apply: (e, docs, seq) => {
        const old = docs.get<AsmSettingsDoc>('asm-settings', e.tenant);
        const doc: AsmSettingsDoc = { ...ASM_DEFAULTS, ...(old ?? { id: e.tenant, seq }), ...(e.data as Partial<AsmSettings>), updatedAt: e.at };
        return [{ collection: 'asm-settings', id: e.tenant, doc }];
      },
    },
  },
});

/** A tenant's settings with defaults for what was never set. */
export function asmSettingsOf(doc: AsmSettingsDoc | null): AsmSettings {
  return { targets: doc?.targets ?? [], expiryWarningDays: doc?.expiryWarningDays ?? ASM_DEFAULTS.expiryWarningDays };
}
