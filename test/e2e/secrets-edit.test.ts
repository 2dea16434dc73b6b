import { spawn } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authy, baseEnv, CLI, finished, initVault, tempHome, withPass } from "./cli.js";
import { sleep, waitFor } from "./daemon-helpers.js";

let t: ReturnType<typeof tempHome>;
let record: string;
const run = (args: string[], env: Record<string, string | undefined> = {}, input?: string) =>
  authy(args, { home: t.home, env: { ...withPass, EDITOR: undefined, VISUAL: undefined, ...env }, input });

/** An editor: a shell script that notes what it was given (path, mode, file system), then does `body`. */
function editor(name: string, body: string): string {
  const file = path.join(t.dir, name);
  writeFileSync(
    file,
    `#!/bin/sh\nprintf '%s %s %s %s\\n' "$1" "$(stat -c %a "$1")" "$(stat -c %a "$(dirname "$1")")" "$(stat -f -c %T "$(dirname "$1")")" > ${record}\n${body}\n`,
  );
  chmodSync(file, 0o755);
  return file;
}

function noted(): { file: string; mode: string; dirMode: string; fs: string } {
  const [file, mode, dirMode, fs] = readFileSync(record, "utf8").trim().split(" ") as [string, string, string, string];
  return { file, mode, dirMode, fs };
}

async function versions(p: string): Promise<number> {
  const r = await run(["--json", "secrets", "history", p]);
  return (JSON.parse(r.stdout) as { versions: unknown[] }).versions.length;
}

beforeAll(async () => {
  t = tempHome();
  record = path.join(t.dir, "editor-record");
  await initVault(t.home);
  await run(["secrets", "set", "app/TOKEN"], {}, "original-token-value");
});
afterAll(() => t.cleanup());

describe("authy secrets edit", () => {
  it("edits in a 0600 file in a 0700 directory on tmpfs, removed afterwards, and stores a new version", async () => {
    const r = await run(["secrets", "edit", "app/TOKEN"], { EDITOR: editor("ed-change", `printf 'edited-token-value' > "$1"`) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/saved app\/TOKEN \(version 2\)/);
    const n = noted();
    expect([n.mode, n.dirMode, n.fs]).toEqual(["600", "700", "tmpfs"]);
    expect(path.basename(n.file)).toBe("TOKEN");
    expect(existsSync(n.file)).toBe(false);
    expect(existsSync(path.dirname(n.file))).toBe(false);
    expect((await run(["secrets", "get", "app/TOKEN"])).stdout).toBe("edited-token-value");
  });

  it("stores nothing when the content did not change, even when the editor added a final newline", async () => {
    const before = await versions("app/TOKEN");
    const untouched = await run(["secrets", "edit", "app/TOKEN"], { EDITOR: editor("ed-none", "true") });
    expect(untouched.code, untouched.stderr).toBe(0);
    expect(untouched.stderr).toMatch(/no change, nothing stored/);
    const resaved = await run(["secrets", "edit", "app/TOKEN"], { EDITOR: editor("ed-newline", `v=$(cat "$1"); printf '%s\\n' "$v" > "$1"`) });
    expect(resaved.code, resaved.stderr).toBe(0);
    expect(resaved.stderr).toMatch(/no change/);
    expect(await versions("app/TOKEN")).toBe(before);
  });

  it("uses $VISUAL when $EDITOR is unset, and runs $EDITOR through the shell (arguments allowed)", async () => {
    const visual = await run(["secrets", "edit", "app/TOKEN"], { VISUAL: editor("ed-visual", `printf 'from-visual-editor' > "$1"`) });
    expect(visual.code, visual.stderr).toBe(0);
    expect((await run(["secrets", "get", "app/TOKEN"])).stdout).toBe("from-visual-editor");
    // EDITOR="script -x": the script gets -x, then the file.
    const withArgs = editor("ed-args", `flag=$1; shift; printf 'got%s' "$flag" > "$1"`);
    const r = await run(["secrets", "edit", "app/TOKEN"], { EDITOR: `${withArgs} -x`, VISUAL: "false" });
    expect(r.code, r.stderr).toBe(0);
    expect((await run(["secrets", "get", "app/TOKEN"])).stdout).toBe("got-x");
  });

  it("an editor that fails: its exit code, nothing stored, the file removed", async () => {
    const before = await versions("app/TOKEN");
    const r = await run(["secrets", "edit", "app/TOKEN"], { EDITOR: editor("ed-fail", `printf 'half-edited' > "$1"; exit 5`) });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/exited with 5; nothing stored/);
    expect(existsSync(noted().file)).toBe(false);
    expect(await versions("app/TOKEN")).toBe(before);
  });

  it("a missing secret exits 3 without starting the editor; an emptied file stores nothing (exit 2)", async () => {
    writeFileSync(record, "");
    const missing = await run(["secrets", "edit", "app/NOPE"], { EDITOR: editor("ed-never", "true") });
    expect(missing.code).toBe(3);
    expect(readFileSync(record, "utf8")).toBe("");
    const emptied = await run(["secrets", "edit", "app/TOKEN"], { EDITOR: editor("ed-empty", `: > "$1"`) });
    expect(emptied.code).toBe(2);
    expect(emptied.stderr).toMatch(/empty: nothing stored/);
  });

  it("removes the file when authy is terminated while the editor runs, and stores nothing", async () => {
    writeFileSync(record, "");
    const before = await versions("app/TOKEN");
    const env = { ...baseEnv(t.home), ...withPass, EDITOR: editor("ed-slow", `printf 'never-saved' > "$1"; exec sleep 30`) };
    const child = spawn(process.execPath, ["--", CLI, "secrets", "edit", "app/TOKEN"], { env, stdio: ["pipe", "pipe", "pipe"] });
    const done = finished(child, undefined, 30_000);
    await waitFor("the editor to start", () => readFileSync(record, "utf8") !== "", 20_000);
    await sleep(100);
    child.kill("SIGTERM");
    const r = await done;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/stopped by SIGTERM; nothing stored/);
    expect(existsSync(noted().file)).toBe(false);
    expect(await versions("app/TOKEN")).toBe(before);
  });
});
