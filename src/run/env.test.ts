import { describe, expect, it } from "vitest";
import { AuthyError } from "../errors.js";
import { AUTHY_CREDENTIAL_VARS, MAX_ENV_STRING_BYTES, buildChildEnv, checkInjectedName, isDangerousEnvName, validateEnvName, validateEnvValue } from "./env.js";
import { thrown } from "../errors.test-helpers.js";

describe("buildChildEnv", () => {
  const parent = {
    HOME: "/home/me",
    PATH: "/usr/bin:/bin",
    AUTHY_SESSION: "sess",
    AUTHY_PASSPHRASE: "pw",
    AUTHY_PASSPHRASE_FILE: "/pw",
    AUTHY_IDENTITY: "/id",
    AUTHY_TOKEN: "tok",
    AUTHY_AGENT_KEY: "agent",
    AUTHY_HOME: "/home/me/.authy",
    AUTHY_API_URL: "https://vault.example",
    AUTHY_SOMETHING_NEW: "x",
    UNDEFINED: undefined,
  };

  it("withholds every AUTHY_* variable of the parent and keeps the rest", () => {
    const env = buildChildEnv(parent, {});
    expect(Object.keys(env).sort()).toEqual(["HOME", "PATH"]);
    for (const name of AUTHY_CREDENTIAL_VARS) expect(env[name]).toBeUndefined();
  });

  it("keeps AUTHY_* variables passed through explicitly", () => {
    const env = buildChildEnv(parent, {}, { passThrough: ["AUTHY_HOME", "AUTHY_API_URL"] });
    expect(env.AUTHY_HOME).toBe("/home/me/.authy");
    expect(env.AUTHY_API_URL).toBe("https://vault.example");
    expect(env.AUTHY_SESSION).toBeUndefined();
  });

  it("adds the secrets, which win over the parent's variables, from a Map or a record", () => {
    expect(buildChildEnv({ A: "parent", B: "b" }, new Map([["A", "secret"]]))).toEqual({ A: "secret", B: "b" });
    expect(buildChildEnv({ A: "parent" }, { A: "secret", C: "c" })).toEqual({ A: "secret", C: "c" });
  });

  it("lets the caller inject an authy variable on purpose (--pass-token)", () => {
    expect(buildChildEnv(parent, { AUTHY_TOKEN: "scoped" }).AUTHY_TOKEN).toBe("scoped");
  });

  it("treats a secret named __proto__ as a plain variable", () => {
    const env = buildChildEnv({}, new Map([["__proto__", "x"]]));
    expect(Object.keys(env)).toEqual(["__proto__"]);
    expect(env["__proto__"]).toBe("x");
  });

  for (const name of ["LD_PRELOAD", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "NODE_OPTIONS", "BASH_ENV", "ENV", "PATH", "PYTHONPATH", "Path"]) {
    it(`refuses to inject ${name} unless allowed`, () => {
      const error = thrown(() => buildChildEnv({}, { [name]: "/tmp/evil" }));
      expect(error.code).toBe("INVALID_INPUT");
      expect(error.message).toContain(name);
      expect(error.hint).toBe(`pass --allow-env ${name} to allow it`);
      expect(buildChildEnv({}, { [name]: "/tmp/ok" }, { allow: [name] })[name]).toBe("/tmp/ok");
    });
  }

  it("names where a refused name came from", () => {
    const error = thrown(() => buildChildEnv({}, { NODE_OPTIONS: "--require /tmp/x" }, { sources: new Map([["NODE_OPTIONS", "app.env:3"]]) }));
    expect(error.message).toBe("refusing to inject NODE_OPTIONS (from app.env:3): it can change which code the child runs");
    expect(thrown(() => checkInjectedName("LD_PRELOAD", "--env")).message).toContain("(from --env)");
    expect(thrown(() => checkInjectedName("A-B", "app.env:9")).message).toContain("(from app.env:9)");
    expect(() => checkInjectedName("LD_PRELOAD", "--env", ["LD_PRELOAD"])).not.toThrow();
    expect(() => checkInjectedName("OPENAI_API_KEY", "app.env:1")).not.toThrow();
  });

  it("keeps a dangerous variable that comes from the parent", () => {
    expect(buildChildEnv({ LD_LIBRARY_PATH: "/opt/lib" }, {}).LD_LIBRARY_PATH).toBe("/opt/lib");
  });

  it("refuses a name with = or NUL and a value with NUL, never showing the value", () => {
    expect(thrown(() => buildChildEnv({}, { "A=B": "v" })).code).toBe("INVALID_INPUT");
    expect(thrown(() => buildChildEnv({}, { "A\0B": "v" })).code).toBe("INVALID_INPUT");
    const error = thrown(() => buildChildEnv({}, { TOKEN: "sekrit\0value" }));
    expect(error.message).toContain("TOKEN");
    expect(error.message).not.toContain("sekrit");
  });
});

describe("env names and values", () => {
  it("accepts portable names and rejects the rest", () => {
    for (const ok of ["A", "_", "a_b", "API_KEY_2", "__proto__"]) expect(() => validateEnvName(ok)).not.toThrow();
    for (const bad of ["", "2A", "A-B", "A B", "A=B", "A\0", "É", "A.B"]) expect(() => validateEnvName(bad)).toThrow(AuthyError);
  });

  it("knows the loader, shell and runtime variables", () => {
    for (const name of [
      "LD_AUDIT",
      "DYLD_LIBRARY_PATH",
      "NODE_PATH",
      "PYTHONSTARTUP",
      "PERL5OPT",
      "RUBYOPT",
      "IFS",
      "PS4",
      "GCONV_PATH",
      "GLIBC_TUNABLES",
      "JAVA_TOOL_OPTIONS",
      "BASH_FUNC_x%%",
    ]) {
      expect(isDangerousEnvName(name)).toBe(true);
    }
    for (const name of ["OPENAI_API_KEY", "DATABASE_URL", "HOME", "LDAP_URL", "NODE_ENV"]) expect(isDangerousEnvName(name)).toBe(false);
  });

  it("rejects a value over the kernel's per-string limit, naming the variable only", () => {
    const limit = MAX_ENV_STRING_BYTES - "BIG=".length - 1;
    expect(() => validateEnvValue("BIG", "v".repeat(limit))).not.toThrow();
    const error = thrown(() => validateEnvValue("BIG", "v".repeat(limit + 1)));
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.message).toContain("BIG");
    expect(error.message).toContain(String(MAX_ENV_STRING_BYTES));
    expect(error.message).not.toContain("vvvv");
  });

  it("counts the limit in bytes, not characters", () => {
    const limit = MAX_ENV_STRING_BYTES - "BIG=".length - 1;
    expect(() => validateEnvValue("BIG", "é".repeat(Math.ceil(limit / 2) + 1))).toThrow(AuthyError);
  });
});
