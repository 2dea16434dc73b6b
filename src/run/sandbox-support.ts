/**
 * Whether this system can run `authy run --sandbox`, checked before anything is released: the
 * run is refused with a clear error rather than started without the sandbox.
 *
 * Not Linux: usage (2), as no setting makes it work yet. No bwrap, or user namespaces turned
 * off: UNAVAILABLE (8), which the administrator can fix.
 */
import { readFileSync } from "node:fs";
import { AuthyError } from "../errors.js";
import { resolveCommand } from "./command.js";
import { nodeSpawnSync } from "./spawn.js";

/** The Debian and Ubuntu package (and Fedora's, Arch's) that ships bwrap. */
const BWRAP_PACKAGE = "bubblewrap";

/**
 * Kernel switches that turn unprivileged user namespaces off, and the value that does:
 * Debian's and Ubuntu's patch, and the upstream limit (0 namespaces allowed).
 */
const USERNS_SWITCHES: readonly { file: string; off: string }[] = [
  { file: "/proc/sys/kernel/unprivileged_userns_clone", off: "0" },
  { file: "/proc/sys/user/max_user_namespaces", off: "0" },
];

export interface SupportProbe {
  platform: NodeJS.Platform;
  /** The contents of a /proc/sys file, or null if it does not exist. */
  readSysctl(file: string): string | null;
  /** The path of `bwrap` on the search path, or null. */
  findBwrap(): string | null;
}

const hostSupportProbe: SupportProbe = {
  platform: process.platform,
  readSysctl(file) {
    try {
      return readFileSync(file, "utf8").trim();
    } catch {
      return null;
    }
  },
  findBwrap() {
    const found = resolveCommand("bwrap", process.env.PATH, "/");
    return found.ok ? found.path : null;
  },
};

/** A sandbox that cannot be set up in this long is not going to be. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Sets up an empty sandbox once (namespaces, the signal handling of sandbox.ts) and throws if
 * that fails: bwrap's own failure would otherwise look like the child's exit status 1, after
 * the secrets were released. Catches what no switch in /proc/sys shows (AppArmor's
 * restriction of user namespaces on Ubuntu, a seccomp filter, an `env` that is not GNU's).
 */
export function probeSandbox(bwrap: string, env = systemCommand("env")): void {
  const args = [
    "--ignore-signal=INT",
    bwrap,
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--die-with-parent",
    "--ro-bind",
    "/",
    "/",
    "--",
    env,
    "--default-signal=INT",
    "true",
  ];
  const r = nodeSpawnSync(env, args, { stdio: ["ignore", "ignore", "pipe"], timeout: PROBE_TIMEOUT_MS, env: { PATH: "/usr/bin:/bin" } });
  if (r.status === 0) return;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stderr is null when env could not be started (r.error)
  const said = (r.stderr?.toString("utf8") ?? "").trim().split("\n")[0] ?? "";
  if (said.startsWith("env:") || r.error) {
    throw new AuthyError("UNAVAILABLE", `--sandbox needs GNU env (coreutils 8.31 or later) at ${env}: ${said || r.error?.message}`);
  }
  throw new AuthyError("UNAVAILABLE", `bwrap cannot set up a sandbox here: ${said || `exit status ${r.status ?? r.signal}`}`, {
    hint: "unprivileged user namespaces may be off or restricted (Ubuntu: sysctl kernel.apparmor_restrict_unprivileged_userns); check with `unshare --user --map-root-user true`",
  });
}

/** A system program on the search path (`env`, `bwrap`), or where Debian keeps it. */
export function systemCommand(name: string): string {
  const found = resolveCommand(name, process.env.PATH, "/");
  return found.ok ? found.path : `/usr/bin/${name}`;
}

/** The path of bwrap; throws if the sandbox cannot run here. */
export function checkSandboxSupport(probe: SupportProbe = hostSupportProbe): string {
  if (probe.platform !== "linux") {
    throw new AuthyError("INVALID_INPUT", `--sandbox is not supported on this system yet (${probe.platform}); it needs Linux`, {
      hint: "run without --sandbox, or on Linux",
    });
  }
  const bwrap = probe.findBwrap();
  if (bwrap === null) {
    throw new AuthyError(
      "UNAVAILABLE",
      `--sandbox needs bwrap, which is not installed: install the ${BWRAP_PACKAGE} package (apt-get install ${BWRAP_PACKAGE})`,
      {
        hint: `dnf and pacman call the package ${BWRAP_PACKAGE} too`,
      },
    );
  }
  for (const { file, off } of USERNS_SWITCHES) {
    if (probe.readSysctl(file) === off) {
      throw new AuthyError(
        "UNAVAILABLE",
        `--sandbox needs unprivileged user namespaces, which this system turns off (${file} is ${off}; check with \`unshare --user --map-root-user true\`)`,
        { hint: `an administrator can turn them on: sysctl ${file.slice("/proc/sys/".length).replaceAll("/", ".")}=<a non-zero value>` },
      );
    }
  }
  return bwrap;
}
