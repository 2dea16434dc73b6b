/** The fd of a connected net.Socket (a Unix socket), or null: Node.js keeps it on a private handle. */
export function socketFd(socket: unknown): number | null {
  const fd = (socket as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : null;
}
