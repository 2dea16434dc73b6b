/** The owner's settings as the core reads them (settings.ts stores them; types and defaults only, so that context.ts can name them). */
export interface VaultSettings {
  notify: { webhook: string | null; desktop: boolean };
  approvals: { expiryMs: number | null };
}

export const DEFAULT_SETTINGS: VaultSettings = { notify: { webhook: null, desktop: true }, approvals: { expiryMs: null } };
