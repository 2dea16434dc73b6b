export { KEY_PATTERN, parseDotenv, serializeDotenv } from "./dotenv.js";
export type { DotenvEntry } from "./dotenv.js";
export { EXPORT_FORMATS, serializeEnv } from "./export-formats.js";
export type { EnvEntry, ExportFormat } from "./export-formats.js";
export { isReference, parseReference, REFERENCE_SCHEME } from "./reference.js";
export { parseTemplate, renderTemplate, templateReferences } from "./template.js";
export { formatDuration, parseDuration, parseExpiry, parseTimeSpec } from "./duration.js";
