/**
 * The machinery of `authy run`, which knows nothing of the vault: it gets plain names and
 * values, builds the child's environment, masks its output, runs it and cleans up after it.
 */
export { createMasker, Masker, MaskSession, maskStream, MASK_MIN_LENGTH, MASK_PLACEHOLDER, type MaskerOptions } from "./masker.js";
export {
  AUTHY_CREDENTIAL_VARS,
  AUTHY_ENV_PREFIX,
  MAX_ENV_STRING_BYTES,
  buildChildEnv,
  checkInjectedName,
  isDangerousEnvName,
  validateEnvName,
  validateEnvValue,
  type ChildEnvOptions,
} from "./env.js";
export { runChild, type RunChildOptions, type RunChildResult } from "./child.js";
export { FORWARDED_SIGNALS } from "./process-group.js";
export { writeMountFile, removeMountFile, MOUNT_FILE_MODE } from "./mount.js";
export { WATCHDOG_GRACE_MS } from "./watchdog.js";
export { loadNodePty, type PtyLoader, type PtyModule, type PtyProcess, type PtySpawnOptions } from "./pty.js";
