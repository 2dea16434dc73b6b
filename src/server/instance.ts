/**
 * The token instance of a team server. A daemon's tokens die with it (a fresh random instance
 * per start); a server's must be honoured by every server process on the same database, and
 * across restarts (a client holding a token must not notice that its server was replaced).
 * So a server's instance is derived from what all of them share and nothing else does: the
 * vault's id. A daemon on the same SQLite vault keeps its own random instances, so daemon and
 * server tokens never cross. Revoking a token, its expiry and its uses work as everywhere.
 */
const SERVER_INSTANCE_PREFIX = "srv_";

export function serverInstance(vaultId: string): string {
  return `${SERVER_INSTANCE_PREFIX}${vaultId}`;
}
