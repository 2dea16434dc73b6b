/**
 * The sandbox's file system, as bubblewrap mount operations: the host's root read-only, a
 * private /tmp, the working directory and the `--allow-write` paths writable, and the
 * credential homes hidden (an empty tmpfs over a directory, /dev/null over a file) unless
 * named exactly with `--allow-read` or `--allow-write`. An allowed path inside a hidden one
 * shows through it.
 *
 * bwrap applies mounts in order and a later mount covers an earlier one, so operations are
 * sorted by depth: a mount on a deeper path always comes after every mount on a path that
 * contains it, whatever kind either is (the working directory may be $HOME, which holds .ssh).
 */
import { realpathSync, statSync } from "node:fs";
import path from "node:path";
import { AuthyError } from "../errors.js";

/**
 * The usual homes of credentials other than authy's, relative to $HOME: what a same-user
 * process would read first. Hidden in every sandbox unless allowed by name.
 */
const CREDENTIAL_HOMES = [".ssh", ".gnupg", ".aws", ".config/gcloud", ".docker", ".kube", ".netrc", ".git-credentials"] as const;

export type PathKind = "dir" | "file" | "missing";

type MountOp = { op: "bind"; path: string; writable: boolean } | { op: "tmpfs"; path: string } | { op: "hide-file"; path: string };

export interface MountPlanInput {
  home: string;
  cwd: string;
  /** Absolute paths the child may write (besides cwd). */
  write: readonly string[];
  /** Absolute paths the child may read although they are hidden. */
  read: readonly string[];
  /** Absolute paths hidden besides CREDENTIAL_HOMES: AUTHY_HOME, the socket, identity files. */
  hide: readonly string[];
}

/** What is at a path (following symbolic links), and its canonical spelling. */
export interface PathProbe {
  kind(p: string): PathKind;
  real(p: string): string;
}

const hostProbe: PathProbe = {
  kind(p) {
    try {
      return statSync(p).isDirectory() ? "dir" : "file";
    } catch {
      return "missing";
    }
  },
  real(p) {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  },
};

/** `~` and `~/…` against home, anything else against cwd; normalized. */
export function resolveSandboxPath(p: string, home: string, cwd: string): string {
  if (p.includes("\0")) throw new AuthyError("INVALID_INPUT", "a sandbox path contains a NUL byte");
  if (p === "~") return home;
  if (p.startsWith("~/")) return path.join(home, p.slice(2));
  return path.resolve(cwd, p);
}

function depth(p: string): number {
  return p === "/" ? 0 : p.split("/").length - 1;
}

function inside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent === "/" ? "/" : `${parent}/`);
}

/** The mounts after `--ro-bind / /`, `--dev /dev` and `--proc /proc`, in the order to apply them. */
export function planMounts(input: MountPlanInput, probe: PathProbe = hostProbe): MountOp[] {
  const need = (flag: string, p: string): string => {
    if (probe.kind(p) === "missing") {
      throw new AuthyError("INVALID_INPUT", `${flag} ${p}: no such file or directory`, { hint: "create it first, or leave it out" });
    }
    return probe.real(p);
  };
  const cwd = probe.real(input.cwd);
  if (cwd === "/") {
    // The working directory is writable: from / that would be the whole file system.
    throw new AuthyError("INVALID_INPUT", "the sandbox cannot run from /: the working directory is writable in it", {
      hint: "cd to the project's directory first",
    });
  }
  const write = input.write.map((p) => need("--allow-write", p));
  const read = input.read.map((p) => need("--allow-read", p));
  const named = new Set([...write, ...read]);
  const hidden = new Map<string, PathKind>();
  for (const p of [...CREDENTIAL_HOMES.map((h) => path.join(input.home, h)), ...input.hide]) {
    const kind = probe.kind(p);
    if (kind === "missing") continue; // nothing there to read
    const real = probe.real(p);
    if (!named.has(real)) hidden.set(real, kind);
  }
  for (const h of hidden.keys()) {
    if (inside(cwd, h)) {
      throw new AuthyError("INVALID_INPUT", `the working directory ${cwd} is inside ${h}, which the sandbox hides`, {
        hint: `run from another directory, or name it with --allow-write ${h}`,
      });
    }
  }
  const ops: MountOp[] = [
    { op: "tmpfs", path: "/tmp" },
    { op: "bind", path: cwd, writable: true },
  ];
  for (const p of write) ops.push({ op: "bind", path: p, writable: true });
  for (const [p, kind] of hidden) ops.push(kind === "dir" ? { op: "tmpfs", path: p } : { op: "hide-file", path: p });
  // Bound even where the root shows it already: it may be under the private /tmp.
  for (const p of read) if (!write.includes(p)) ops.push({ op: "bind", path: p, writable: false });
  // Stable: at equal depth, binds (listed first) keep their order.
  return ops
    .map((o, i) => ({ o, i }))
    .sort((a, b) => depth(a.o.path) - depth(b.o.path) || a.i - b.i)
    .map(({ o }) => o);
}

/** The bwrap arguments for a plan. */
export function mountArguments(ops: readonly MountOp[]): string[] {
  const args: string[] = [];
  for (const o of ops) {
    if (o.op === "tmpfs") args.push("--tmpfs", o.path);
    else if (o.op === "hide-file") args.push("--ro-bind", "/dev/null", o.path);
    else args.push(o.writable ? "--bind" : "--ro-bind", o.path, o.path);
  }
  return args;
}
