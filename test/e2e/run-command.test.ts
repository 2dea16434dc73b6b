import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authy, initVault, tempHome, withPass } from "./cli.js";

let t: ReturnType<typeof tempHome>;
const run = (args: string[], input?: string) => authy(args, { home: t.home, env: withPass, input });

beforeAll(async () => {
  t = tempHome();
  await initVault(t.home);
  await run(["secrets", "set", "app/API_KEY"], "sk-live-command-line-42");
});
afterAll(() => t.cleanup());

describe("authy run --command", () => {
  it("runs the line through /bin/sh -c: pipes, && and variables work, and the output is masked", async () => {
    const r = await run([
      "run",
      "--env",
      "API_KEY=authy://app/API_KEY",
      "--command",
      'printf "%s\\n" "$API_KEY" | tr a-z A-Z && echo "len ${#API_KEY}"; echo "$0"',
    ]);
    expect(r.code, r.stderr).toBe(0);
    // tr turned the value to upper case, which masking does not know: the point is that the shell ran the pipe.
    expect(r.stdout).toBe("SK-LIVE-COMMAND-LINE-42\nlen 23\n/bin/sh\n");
    const masked = await run(["run", "--env", "API_KEY=authy://app/API_KEY", "--command", 'echo "key=$API_KEY"']);
    expect(masked.stdout).toBe("key=<authy:masked>\n");
  });

  it("returns the shell's exit code", async () => {
    expect((await run(["run", "--env", "K=authy://app/API_KEY", "--command", "exit 7"])).code).toBe(7);
    expect((await run(["run", "--env", "K=authy://app/API_KEY", "--command", "no-such-command-here"])).code).toBe(127);
  });

  it("refuses --command together with -- CMD, an empty --command, and no command at all, with exit 2", async () => {
    const both = await run(["run", "--env", "K=authy://app/API_KEY", "--command", "true", "--", "true"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either after -- or with --command, not both/);
    const empty = await run(["run", "--env", "K=authy://app/API_KEY", "--command", "  "]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--command is empty/);
    const none = await run(["run", "--env", "K=authy://app/API_KEY"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no command to run/);
  });
});
