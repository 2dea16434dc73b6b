// The HTTP API shared by the daemon (Unix socket) and the team server (TCP).
export { buildApi, type ApiOptions } from "./app.js";
export { HTTP_STATUS } from "./http-status.js";
export { DEFAULT_LIMITS, type ApiLimits } from "./limits.js";
