import { createSecureContext } from "node:tls";
import { AuthyError } from "../../errors.js";
import { readFileBounded, type InputLimit } from "../../files/bounded-read.js";
import { parseListen, parseTrustProxy } from "../../server/listen-address.js";
import { serverCredential } from "../../server/unlock-source.js";
import type { CliContext } from "../context.js";

interface ServeFlags {
  listen: string;
  database?: string;
  passphraseFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp?: boolean;
  trustProxy?: string;
}

/** A certificate chain or a key in PEM; a long chain is a few KiB. */
const TLS_FILE_LIMIT: InputLimit = { what: "a TLS certificate or key file", bytes: 1024 * 1024 };

async function tlsFiles(flags: ServeFlags): Promise<{ cert: Buffer; key: Buffer } | null> {
  if (flags.tlsCert === undefined && flags.tlsKey === undefined) return null;
  if (flags.tlsCert === undefined || flags.tlsKey === undefined) {
    throw new AuthyError(
      "INVALID_INPUT",
      `--${flags.tlsCert === undefined ? "tls-key" : "tls-cert"} was given without --${flags.tlsCert === undefined ? "tls-cert" : "tls-key"}`,
      {
        hint: "TLS needs both: --tls-cert FILE --tls-key FILE",
      },
    );
  }
  const files = { cert: await readFileBounded(flags.tlsCert, TLS_FILE_LIMIT), key: await readFileBounded(flags.tlsKey, TLS_FILE_LIMIT) };
  try {
    // What the listener would do with them, done before anything starts: a bad file is the user's input, not a crash.
    createSecureContext(files);
  } catch (e) {
    const reason = /[^:]*$/.exec((e as Error).message)?.[0]?.trim() || (e as Error).message;
    throw new AuthyError("INVALID_INPUT", `--tls-cert ${flags.tlsCert} and --tls-key ${flags.tlsKey} are not a usable certificate and key: ${reason}`, {
      hint: "give the PEM certificate chain and its unencrypted PEM private key",
    });
  }
  return files;
}

/**
 * `authy serve`: checks every flag, reads the TLS files and the unlock credential, then runs
 * the server (src/server/serve.ts) until SIGTERM or SIGINT. It prints one line once it
 * listens: the URL, with the real port when --listen asked for port 0.
 */
export async function serve(ctx: CliContext, flags: ServeFlags): Promise<void> {
  const listen = parseListen(flags.listen);
  const trustProxy = flags.trustProxy === undefined ? null : parseTrustProxy(flags.trustProxy);
  const databaseUrl = flags.database ?? (process.env.AUTHY_DATABASE_URL || null);
  const tls = await tlsFiles(flags);
  const { checkStart, runServer } = await import("../../server/serve.js");
  checkStart({ listen, tls, insecureHttp: flags.insecureHttp === true });
  const { credential } = await serverCredential({ identity: ctx.opts.identity, passphraseFile: flags.passphraseFile });
  await runServer({
    listen,
    databaseUrl,
    vaultPath: ctx.vaultPath,
    credential,
    tls,
    insecureHttp: flags.insecureHttp === true,
    trustProxy,
    onListening: (info) =>
      ctx.out.result({ url: info.url, pid: info.pid, store: info.store }, () => `authy: serving ${info.url} (${info.store}, pid ${info.pid})`),
  });
}
