import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authy, baseEnv, finished, withPass } from "./cli.js";
import { stopDaemons, unlock, vaultHome } from "./daemon-helpers.js";

/**
 * The generated completion scripts, run by the real shells: bash completes through its own
 * programmable-completion variables (COMP_WORDS, COMP_CWORD, COMPREPLY); zsh and fish must
 * at least parse what authy prints for them.
 */
let home: string;
let scripts: Record<"bash" | "zsh" | "fish", string>;

const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
// Skipped (and said so in one line) where a shell is missing; .ci/run installs both and fails on a skip.
for (const shell of ["zsh", "fish"])
  if (!has(shell)) console.warn(`SKIPPED: ${shell} is not installed (apt-get install ${shell}): its completion tests do not run`);

/** What bash offers for the words typed so far (the last one is being completed). */
async function bashComplete(words: string[], env: Record<string, string> = {}): Promise<string[]> {
  const line = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(" ");
  const program = `source ${scripts.bash}\nCOMP_WORDS=(${line})\nCOMP_CWORD=${words.length - 1}\n_authy_complete\nprintf '%s\\n' "\${COMPREPLY[@]}"`;
  const child = spawn("bash", ["--norc", "--noprofile", "-c", program], { env: { ...baseEnv(home), ...env }, stdio: ["pipe", "pipe", "pipe"] });
  const r = await finished(child, undefined, 30_000);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split("\n").filter(Boolean);
}

beforeAll(async () => {
  home = await vaultHome();
  const dir = path.dirname(home);
  scripts = { bash: path.join(dir, "authy.bash"), zsh: path.join(dir, "_authy"), fish: path.join(dir, "authy.fish") };
  for (const shell of ["bash", "zsh", "fish"] as const) {
    const r = await authy(["completion", shell], { home });
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(scripts[shell], r.stdout);
  }
  await authy(["secrets", "set", "prod/db/PASSWORD"], { home, env: withPass, input: "pw-value-1" });
  await authy(["secrets", "set", "prod/API_KEY"], { home, env: withPass, input: "pw-value-2" });
  await authy(["secrets", "set", "staging/API_KEY"], { home, env: withPass, input: "pw-value-3" });
});
afterAll(stopDaemons);

describe("authy completion", () => {
  it("bash: completes commands, subcommands (and only visible ones), flags and option choices from the program declaration", async () => {
    expect(await bashComplete(["authy", "se"])).toEqual(["secrets", "serve"]);
    expect(await bashComplete(["authy", "secrets", "r"])).toEqual(["restore", "rollback", "rotate"]);
    expect(await bashComplete(["authy", "secrets", "list", "--t"])).toEqual(["--tag", "--tier", "--type"]);
    expect(await bashComplete(["authy", "secrets", "set", "x/Y", "--tier", ""])).toEqual(["standard", "sensitive", "critical"]);
    expect(await bashComplete(["authy", "--home", "/somewhere", "completion", ""])).toEqual(["bash", "zsh", "fish"]);
    // Global flags are offered under a subcommand too; hidden commands never.
    expect(await bashComplete(["authy", "secrets", "get", "--no-d"])).toEqual(["--no-daemon"]);
    expect(await bashComplete(["authy", "__"])).toEqual([]);
  });

  it("bash: files after `run --`, and for options that take a file", async () => {
    writeFileSync(path.join(path.dirname(home), "deploy.env"), "");
    const cwd = path.dirname(home);
    const files = await bashComplete(["authy", "run", "--env-file", `${cwd}/depl`]);
    expect(files).toEqual([`${cwd}/deploy.env`]);
    expect(await bashComplete(["authy", "run", "--scope", "x", "--", `${cwd}/dep`])).toEqual([`${cwd}/deploy.env`]);
  });

  it("bash: no secret paths while the vault is locked: nothing, at once, and no prompt even with a passphrase in the environment", async () => {
    expect(await bashComplete(["authy", "secrets", "get", "prod/"], withPass)).toEqual([]);
    // Had it unlocked the vault in its own process, its listing would be in the audit log.
    const audit = await authy(["--json", "audit", "--action", "secret.list"], { home, env: withPass });
    expect(audit.code, audit.stderr).toBe(0);
    expect((JSON.parse(audit.stdout) as { entries: unknown[] }).entries).toEqual([]);
  });

  it("bash: secret paths and namespaces from the daemon once it is unlocked", async () => {
    await unlock(home);
    expect(await bashComplete(["authy", "secrets", "get", "prod/"])).toEqual(["prod/API_KEY", "prod/db/PASSWORD"]);
    expect(await bashComplete(["authy", "secrets", "mv", "prod/API_KEY", "st"])).toEqual(["staging/API_KEY"]);
    expect(await bashComplete(["authy", "env", "export", "pro"])).toEqual(["prod", "prod/db"]);
    // A process outside the unlocking session, with no token, gets nothing (and is not asked anything).
    const outsider = spawn(
      "setsid",
      [
        "-w",
        "bash",
        "--norc",
        "-c",
        `source ${scripts.bash}; COMP_WORDS=(authy secrets get p); COMP_CWORD=3; _authy_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      {
        env: baseEnv(home),
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    const r = await finished(outsider, undefined, 30_000);
    expect(r.stdout.trim()).toBe("");
  });

  for (const shell of ["zsh", "fish"] as const) {
    it.skipIf(!has(shell))(`${shell}: the script parses (-n)`, () => {
      const r = spawnSync(shell, ["-n", scripts[shell]], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      expect(scripts[shell]).toBeTruthy();
    });
  }

  it.skipIf(!has("zsh"))("zsh: the completion function runs in a real zsh and offers the subcommands", () => {
    // compadd exists only inside completion widgets: a stand-in records what would be offered.
    const program = `compadd() { shift 2; print -l -- "$@"; }\nsource ${scripts.zsh}\nwords=(authy secrets ro)\nCURRENT=3\n_authy`;
    const r = spawnSync("zsh", ["-f", "-c", program], { encoding: "utf8", env: baseEnv(home) });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split("\n").filter(Boolean)).toEqual(["rollback", "rotate"]);
  });

  it.skipIf(!has("fish"))("fish: the completion function runs in a real fish", () => {
    const r = spawnSync("fish", ["--no-config", "-c", `source ${scripts.fish}; complete -C 'authy secrets ro'`], { encoding: "utf8", env: baseEnv(home) });
    expect(r.status, r.stderr).toBe(0);
    expect(
      r.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\t")[0]),
    ).toEqual(["rollback", "rotate"]);
  });
});
