/**
 * The formats of `authy env export --format …`, by name only: the CLI's declaration offers
 * them as choices without loading the writers (export-formats.ts, in the engine bundle).
 */
export const EXPORT_FORMATS = ["dotenv", "json", "yaml", "shell", "docker-env"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
