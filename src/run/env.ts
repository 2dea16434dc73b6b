/**
 * The environment of a process started by `authy run`: the parent's, minus authy's own
 * credentials, plus the secrets asked for (DESIGN.md section 5).
 */
import { AuthyError } from "../errors.js";

/**
 * authy's credential variables, by name. The child loses more than these: every `AUTHY_*`
 * variable is withheld (AUTHY_ENV_PREFIX), so a credential variable added later cannot leak
 * through a forgotten list, and AUTHY_HOME and AUTHY_API_URL (which lead to the daemon socket
 * or the server) are withheld too unless passed through explicitly.
 */
export const AUTHY_CREDENTIAL_VARS = [
  "AUTHY_SESSION",
  "AUTHY_PASSPHRASE",
  "AUTHY_PASSPHRASE_FILE",
  "AUTHY_IDENTITY",
  "AUTHY_TOKEN",
  "AUTHY_AGENT_KEY",
] as const;

/** Every parent variable whose name starts with this is withheld from the child. */
export const AUTHY_ENV_PREFIX = "AUTHY_";

/**
 * Set in the environment of every child of `authy run`: a command there does not use the
 * member key a `authy login` stored for the user (src/cli/context.ts), since the child gets
 * only what its run passes it. A guard against an agent using it by accident; against one
 * that means to, which can unset this or read the file, the sandbox hides the file.
 */
export const RUN_CHILD_VAR = "AUTHY_RUN_CHILD";

/**
 * Linux refuses to exec when one "NAME=value" string, with its terminating NUL, is longer than
 * MAX_ARG_STRLEN (32 pages of 4 KiB) and fails with a bare E2BIG; checking first lets the error
 * name the variable.
 */
export const MAX_ENV_STRING_BYTES = 131_072;

/**
 * Names that make a dynamic loader, a shell or a language runtime load or run code other than
 * the program asked for: preloads, library and module search paths, startup files and option
 * variables. Injecting one from the vault needs an explicit opt-in. Compared case-insensitively
 * (Windows treats `Path` as PATH).
 */
const DANGEROUS_NAMES = new Set([
  // program and library lookup
  "PATH",
  "GCONV_PATH",
  "GLIBC_TUNABLES",
  "HOSTALIASES",
  "LOCPATH",
  "NLSPATH",
  "RESOLV_HOST_CONF",
  // shells
  "BASH_ENV",
  "ENV",
  "IFS",
  "PS4",
  "SHELLOPTS",
  "BASHOPTS",
  "PROMPT_COMMAND",
  "ZDOTDIR",
  // language runtimes
  "NODE_OPTIONS",
  "NODE_PATH",
  "NODE_REPL_EXTERNAL_MODULE",
  "PYTHONPATH",
  "PYTHONHOME",
  "PYTHONSTARTUP",
  "PYTHONUSERBASE",
  "PYTHONINSPECT",
  "PYTHONBREAKPOINT",
  "PERL5LIB",
  "PERLLIB",
  "PERL5OPT",
  "PERL5DB",
  "RUBYOPT",
  "RUBYLIB",
  "JAVA_TOOL_OPTIONS",
  "_JAVA_OPTIONS",
  "JDK_JAVA_OPTIONS",
  "CLASSPATH",
]);
const DANGEROUS_PREFIXES = ["LD_", "DYLD_", "BASH_FUNC_"];

export function isDangerousEnvName(name: string): boolean {
  const upper = name.toUpperCase();
  return DANGEROUS_NAMES.has(upper) || DANGEROUS_PREFIXES.some((prefix) => upper.startsWith(prefix));
}

/**
 * Names must be portable shell identifiers, `[A-Za-z_][A-Za-z0-9_]*`: anything else (`=`,
 * NUL, `-`, spaces, non-ASCII) cannot be read back with `$NAME` and is usually a typo or an
 * attempt to smuggle a second assignment.
 */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateEnvName(name: string): void {
  if (!ENV_NAME.test(name)) {
    throw new AuthyError("INVALID_INPUT", `invalid environment variable name ${JSON.stringify(name)}`, {
      hint: "names are letters, digits and underscores, and do not start with a digit",
      details: { name },
    });
  }
}

/** Checks a value for the child's environment; errors name the variable, never the value. */
export function validateEnvValue(name: string, value: string): void {
  if (value.includes("\0")) {
    throw new AuthyError("INVALID_INPUT", `the value of ${name} contains a NUL byte, which an environment variable cannot hold`, {
      hint: "binary values cannot be passed in the environment; write them to a file instead",
      details: { name },
    });
  }
  const bytes = Buffer.byteLength(name) + 1 + Buffer.byteLength(value) + 1;
  if (bytes > MAX_ENV_STRING_BYTES) {
    throw new AuthyError(
      "INVALID_INPUT",
      `the value of ${name} is too large for an environment variable (${bytes} bytes; the kernel's limit is ${MAX_ENV_STRING_BYTES})`,
      { hint: "pass large values through a file instead of the environment", details: { name, bytes, limit: MAX_ENV_STRING_BYTES } },
    );
  }
}

export interface ChildEnvOptions {
  /** Dangerous names the caller explicitly allows to be injected (`--allow-env NAME`). */
  allow?: readonly string[];
  /** `AUTHY_*` variables of the parent to keep (e.g. AUTHY_HOME for `--pass-token`). */
  passThrough?: readonly string[];
  /** Where each injected name came from (`deploy.env:3`, `--env`, `secret prod/X`), for errors. */
  sources?: ReadonlyMap<string, string>;
}

/**
 * The rule every name authy puts in a child's environment follows, whatever its source (a
 * scope, a reference, a plain value in an env file, `--env`): a valid name, and a dangerous one
 * only when explicitly allowed. The refusal says where the name came from.
 */
export function checkInjectedName(name: string, source: string | undefined, allow: readonly string[] = []): void {
  const from = source ? ` (from ${source})` : "";
  try {
    validateEnvName(name);
  } catch (e) {
    if (e instanceof AuthyError && source) throw new AuthyError(e.code, `${e.message}${from}`, { hint: e.hint, details: { ...e.details, source } });
    throw e;
  }
  if (isDangerousEnvName(name) && !allow.includes(name)) {
    throw new AuthyError("INVALID_INPUT", `refusing to inject ${name}${from}: it can change which code the child runs`, {
      hint: `pass --allow-env ${name} to allow it`,
      details: source ? { name, source } : { name },
    });
  }
}

/**
 * The child's environment: the parent's variables except `AUTHY_*` ones (unless passed
 * through), then the secrets, which win over a parent variable of the same name. Throws
 * INVALID_INPUT for a bad name, a bad value, or a dangerous name not allowed.
 */
export function buildChildEnv(
  parent: NodeJS.ProcessEnv,
  secrets: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  options: ChildEnvOptions = {},
): Record<string, string> {
  const allow = options.allow ?? [];
  const passThrough = new Set(options.passThrough ?? []);
  // No prototype: a secret named __proto__ is just a variable.
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (name.startsWith(AUTHY_ENV_PREFIX) && !passThrough.has(name)) continue;
    env[name] = value;
  }
  const entries = secrets instanceof Map ? [...(secrets as ReadonlyMap<string, string>)] : Object.entries(secrets as Readonly<Record<string, string>>);
  for (const [name, value] of entries) {
    checkInjectedName(name, options.sources?.get(name), allow);
    validateEnvValue(name, value);
    env[name] = value;
  }
  return env;
}
