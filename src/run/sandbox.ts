/**
 * `authy run --sandbox`: the child runs inside bubblewrap (bwrap), with its own pid, IPC and
 * UTS namespaces (it sees no process outside, so no /proc/PID/environ or /mem of anything
 * else), the file system of sandbox-mounts.ts, and the network as it is, none, or only the
 * allowed hosts through authy's proxy (sandbox-proxy.ts).
 *
 * Signals. authy forwards signals to the process group of what it started, which here holds
 * bwrap's outer process too; that process dies of SIGTERM or SIGINT, and --die-with-parent
 * then SIGKILLs the whole sandbox before the child could handle its own signal (Python's
 * KeyboardInterrupt, a shell's trap). So bwrap starts with the forwarded signals ignored
 * (`env --ignore-signal`), and the child gets them back to their defaults (`env
 * --default-signal`, GNU coreutils 8.31 or later). The child thus gets every signal as it
 * would without the sandbox, and bwrap reports its exit status as a shell would (128+N).
 *
 * Session. bwrap's --new-session is not used: it would take the child out of the process
 * group that authy signals and away from its terminal. authy already starts what it runs in a
 * new session of its own (with no controlling terminal in pipe mode, and authy's private PTY
 * in PTY mode), so the child cannot push keystrokes into the user's terminal (TIOCSTI).
 */
import { systemCommand } from "./sandbox-support.js";
import { mountArguments, planMounts, type MountPlanInput, type PathProbe } from "./sandbox-mounts.js";

/** The signals authy forwards (process-group.ts), which bwrap's own processes must survive. */
const SURVIVED_SIGNALS = "INT,TERM,HUP,QUIT";

/** Where the proxy's socket appears inside the sandbox (its private /tmp). */
const SANDBOX_PROXY_SOCKET = "/tmp/.authy/proxy.sock";
/**
 * Where the run's own socket to the daemon appears inside the sandbox (`--pass-token`,
 * run-socket.ts); the child's AUTHY_SOCKET names it.
 */
export const SANDBOX_DAEMON_SOCKET = "/tmp/.authy/daemon.sock";
/** The relay's port on the sandbox's own loopback (a private network namespace: always free). */
const SANDBOX_PROXY_PORT = 3128;

export type SandboxNetwork = { kind: "host" } | { kind: "none" } | { kind: "proxy"; socket: string };

interface SandboxOptions {
  /** bwrap's path, from checkSandboxSupport(). */
  bwrap: string;
  mounts: MountPlanInput;
  network: SandboxNetwork;
  /** The run's socket to the daemon (run-socket.ts), bound at SANDBOX_DAEMON_SOCKET (`--pass-token`). */
  daemonSocket?: string;
  /** For the relay inside the sandbox (proxy mode): a node binary. */
  node?: string;
  probe?: PathProbe;
}

/**
 * Listens on the sandbox's loopback and passes each connection to the proxy's socket. It
 * closes its stdout once listening: the shell below waits for that before starting the child.
 * It ignores the terminal's signals (the child handles them) and dies with the sandbox.
 */
const RELAY = `
const net = require("net"), fs = require("fs");
for (const s of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"]) process.on(s, () => {});
const [port, sock] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(sock);
  c.pipe(u).pipe(c);
  c.on("error", () => u.destroy());
  u.on("error", () => c.destroy());
}).listen(Number(port), "127.0.0.1", () => { fs.writeSync(3, "ready\\n"); fs.closeSync(3); });
`;

// $1 node, $2 the relay, $3 port, $4 socket; the rest is the command.
const START_RELAY = `r=$("$1" -e "$2" "$3" "$4" 3>&1 >/dev/null &)
[ "$r" = ready ] || { echo "authy: the sandbox's network relay did not start" >&2; exit 125; }
shift 4
exec "$@"`;

/** The proxy variables the child gets in proxy mode (both spellings: curl reads only lower case). */
export function proxyEnv(): Record<string, string> {
  const http = `http://127.0.0.1:${SANDBOX_PROXY_PORT}`;
  const env: Record<string, string> = {};
  for (const [name, value] of [
    ["HTTP_PROXY", http],
    ["HTTPS_PROXY", http],
    ["ALL_PROXY", `socks5h://127.0.0.1:${SANDBOX_PROXY_PORT}`],
    ["NO_PROXY", "localhost,127.0.0.1,::1"],
  ] as const) {
    env[name] = value;
    env[name.toLowerCase()] = value;
  }
  return env;
}

/** The command that runs `path args` in the sandbox. */
export function sandboxCommand(path: string, args: readonly string[], options: SandboxOptions): { path: string; args: string[] } {
  const env = systemCommand("env");
  const bwrap = [options.bwrap, "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"];
  if (options.network.kind !== "host") bwrap.push("--unshare-net");
  bwrap.push("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc");
  bwrap.push(...mountArguments(planMounts(options.mounts, options.probe)));
  if (options.network.kind === "proxy") bwrap.push("--bind", options.network.socket, SANDBOX_PROXY_SOCKET);
  if (options.daemonSocket !== undefined) bwrap.push("--bind", options.daemonSocket, SANDBOX_DAEMON_SOCKET);
  bwrap.push("--chdir", options.mounts.cwd, "--");
  const inside = [env, `--default-signal=${SURVIVED_SIGNALS}`];
  if (options.network.kind === "proxy") {
    inside.push("/bin/sh", "-c", START_RELAY, "authy-sandbox", options.node ?? process.execPath, RELAY, String(SANDBOX_PROXY_PORT), SANDBOX_PROXY_SOCKET);
  }
  return { path: env, args: [`--ignore-signal=${SURVIVED_SIGNALS}`, ...bwrap, ...inside, path, ...args] };
}
