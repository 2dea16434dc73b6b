import type { FastifyInstance } from "fastify";

/**
 * Stops accepting, waits for in-flight requests up to `graceMs`, then cuts the connections
 * still open (`onLate` says so in the caller's log). The daemon and `authy serve` stop alike.
 */
export async function closeGracefully(app: FastifyInstance, graceMs: number, onLate: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = app.close().then(() => true);
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), graceMs)));
  if (!(await Promise.race([closed, late]))) {
    onLate();
    app.server.closeAllConnections();
    await closed;
  }
  clearTimeout(timer);
}
