import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { baseEnv, CLI, initVault, tempHome, withPass } from "./cli.js";

const SECRET = "sk-live-9f8e7d6c5b4a3210";
const MULTI = "-----BEGIN KEY-----\nAAAAbbbbCCCCdddd\n-----END KEY-----";

let t: ReturnType<typeof tempHome>;
let fakeHome: string;
let repo: string;
let bin: string;

/** The built CLI in `cwd`, with HOME set to a fake home holding the seeded histories and transcripts. */
function authyIn(cwd: string, args: string[], extra: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...baseEnv(t.home), ...withPass, HOME: fakeHome, ...extra },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
const git = (...args: string[]) =>
  spawnSync("git", args, { cwd: repo, encoding: "utf8", env: { ...baseEnv(t.home), ...withPass, HOME: fakeHome, PATH: `${bin}:${process.env.PATH}` } });
const noValue = (s: string) => {
  for (const form of [SECRET, Buffer.from(SECRET).toString("base64"), Buffer.from(SECRET).toString("hex"), "AAAAbbbbCCCCdddd"]) expect(s).not.toContain(form);
};

beforeEach(async () => {
  t = tempHome();
  await initVault(t.home);
  fakeHome = path.join(t.dir, "user");
  repo = path.join(t.dir, "repo");
  bin = path.join(t.dir, "bin");
  mkdirSync(fakeHome, { recursive: true });
  mkdirSync(repo);
  mkdirSync(bin);
  // `authy` on PATH for the pre-commit hook: the built CLI.
  writeFileSync(path.join(bin, "authy"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(path.join(bin, "authy"), 0o755);
  for (const [p, v] of [
    ["app/API_KEY", SECRET],
    ["app/TLS_KEY", MULTI],
    ["app/PIN", "1234"],
  ]) {
    const r = spawnSync(process.execPath, [CLI, "secrets", "set", p!], { env: { ...baseEnv(t.home), ...withPass }, input: v, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  }
  git("init", "-q");
  git("config", "user.email", "t@example.invalid");
  git("config", "user.name", "t");
});
afterEach(() => t.cleanup());

describe("authy scan", () => {
  it("finds seeded leaks in a transcript folder, a repository and a shell history by default, never printing a value", async () => {
    const transcript = path.join(fakeHome, ".claude", "projects", "-work-app", "session.jsonl");
    mkdirSync(path.dirname(transcript), { recursive: true });
    writeFileSync(transcript, `{"role":"user","content":"hi"}\n{"role":"tool","content":${JSON.stringify(`key is ${MULTI}`)}}\n`);
    writeFileSync(path.join(fakeHome, ".bash_history"), `ls\ncurl -H 'x: ${SECRET}'\n`);
    writeFileSync(path.join(repo, "config.txt"), `a\nb\n   token=${Buffer.from(SECRET).toString("hex")}\n`);
    writeFileSync(path.join(repo, "clean.txt"), "nothing here 1234\n");
    git("add", ".");
    const r = authyIn(repo, ["scan"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.trim().split("\n").sort()).toEqual(
      [`${path.join(fakeHome, ".bash_history")}:2:13  app/API_KEY  plain`, `${transcript}:2:34  app/TLS_KEY  json`, "config.txt:3:10  app/API_KEY  hex"].sort(),
    );
    expect(r.stderr).toContain("too short to look for: app/PIN");
    noValue(r.stdout + r.stderr);
    const json = JSON.parse(authyIn(repo, ["scan", "--json"]).stdout);
    expect(json.findings).toHaveLength(3);
    expect(json.findings[0]).toEqual({
      file: expect.any(String),
      line: expect.any(Number),
      column: expect.any(Number),
      secret: expect.any(String),
      form: expect.any(String),
    });
  });

  it("exits 0 on clean input, and is audited as vault.scan with counts, never values", async () => {
    writeFileSync(path.join(t.dir, "clean.txt"), "nothing\n");
    expect(authyIn(t.dir, ["scan", "clean.txt"]).code).toBe(0);
    const log = authyIn(t.dir, ["audit", "--json"]).stdout;
    const actions = (JSON.parse(log).entries as { action: string; details: Record<string, unknown> }[]).filter((e) => e.action.startsWith("vault.scan"));
    expect(actions.map((e) => e.action)).toEqual(["vault.scan", "vault.scan.result"]);
    expect(actions[0]!.details).toMatchObject({ count: 3 });
    expect(actions[1]!.details).toMatchObject({ files: 1, findings: 0 });
    noValue(log);
  });

  it("finds a value cut by a read-chunk boundary exactly once, at its line and column", async () => {
    const file = path.join(t.dir, "big.log");
    const lineLen = 100;
    // Lines of 99 x's and a newline, then the secret straddling offset 1 MiB.
    const lines: string[] = [];
    let size = 0;
    while (size + lineLen <= 1024 * 1024 - 7) {
      lines.push("x".repeat(lineLen - 1));
      size += lineLen;
    }
    const head = lines.join("\n") + "\n" + "y".repeat(1024 * 1024 - 7 - size);
    writeFileSync(file, `${head}${SECRET}\n${"z".repeat(3 * 1024 * 1024)}\n${SECRET}`);
    const r = authyIn(t.dir, ["scan", "big.log", "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const findings = JSON.parse(r.stdout).findings as { line: number; column: number }[];
    expect(findings.map((f) => [f.line, f.column])).toEqual([
      [lines.length + 1, 1024 * 1024 - 7 - size + 1],
      [lines.length + 3, 1],
    ]);
    // Redacted across the same boundary, every other byte as it was.
    expect(authyIn(t.dir, ["scan", "big.log", "--redact", "--no-backup"]).code).toBe(1);
    expect(readFileSync(file, "utf8") === `${head}<authy:app/API_KEY>\n${"z".repeat(3 * 1024 * 1024)}\n<authy:app/API_KEY>`).toBe(true);
  });

  it("--redact rewrites findings to <authy:PATH> in place, keeps a 0600 backup, and refuses git-tracked files without --force", async () => {
    const notes = path.join(t.dir, "notes.md");
    writeFileSync(notes, `before ${SECRET} after\nand ${Buffer.from(SECRET).toString("base64")}\n`);
    const r = authyIn(t.dir, ["scan", "notes.md", "--redact"]);
    expect(r.code).toBe(1);
    expect(readFileSync(notes, "utf8")).toMatch(/^before <authy:app\/API_KEY> after\nand <authy:app\/API_KEY>[A-Za-z0-9+/=]{0,3}\n$/);
    expect(readFileSync(`${notes}.authy-backup`, "utf8")).toContain(SECRET);
    expect(spawnSync("stat", ["-c", "%a", `${notes}.authy-backup`], { encoding: "utf8" }).stdout.trim()).toBe("600");
    expect(authyIn(t.dir, ["scan", "notes.md"]).code).toBe(0);

    const tracked = path.join(repo, "app.env");
    writeFileSync(tracked, `KEY=${SECRET}\n`);
    git("add", "app.env");
    const refused = authyIn(repo, ["scan", "app.env", "--redact"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("git tracks: app.env");
    expect(readFileSync(tracked, "utf8")).toBe(`KEY=${SECRET}\n`);
    const forced = authyIn(repo, ["scan", "app.env", "--redact", "--force", "--no-backup"]);
    expect(forced.code).toBe(1);
    expect(readFileSync(tracked, "utf8")).toBe("KEY=<authy:app/API_KEY>\n");
    expect(existsSync(`${tracked}.authy-backup`)).toBe(false);
  });

  it("--staged scans what the commit will hold, and the installed hook refuses such a commit", async () => {
    writeFileSync(path.join(repo, "a.txt"), `x ${SECRET}\n`);
    git("add", "a.txt");
    writeFileSync(path.join(repo, "a.txt"), "clean now, but the staged copy is not\n");
    const staged = authyIn(repo, ["scan", "--staged"]);
    expect(staged.code, staged.stderr).toBe(1);
    expect(staged.stdout.trim()).toBe("a.txt:1:3  app/API_KEY  plain");

    const hook = authyIn(repo, ["scan", "--install-hook"]);
    expect(hook.code, hook.stderr).toBe(0);
    const commit = git("commit", "-qm", "leak");
    expect(commit.status).not.toBe(0);
    expect(commit.stdout + commit.stderr).toContain("a.txt:1:3  app/API_KEY  plain");
    git("add", "a.txt");
    expect(git("commit", "-qm", "clean").status).toBe(0);
    // Ours is replaced on a second install; someone else's hook is left alone.
    expect(authyIn(repo, ["scan", "--install-hook"]).code).toBe(0);
    writeFileSync(path.join(repo, ".git", "hooks", "pre-commit"), "#!/bin/sh\necho mine\n");
    const refused = authyIn(repo, ["scan", "--install-hook"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("is not authy's");
    expect(readFileSync(path.join(repo, ".git", "hooks", "pre-commit"), "utf8")).toBe("#!/bin/sh\necho mine\n");
  });

  it("refuses bad usage with exit 2 and a missing path with exit 3", async () => {
    expect(authyIn(repo, ["scan", "--staged", "--redact"]).code).toBe(2);
    expect(authyIn(t.dir, ["scan", "--install-hook"]).code).toBe(2);
    expect(authyIn(t.dir, ["scan", "no-such-file"]).code).toBe(3);
  });
});
