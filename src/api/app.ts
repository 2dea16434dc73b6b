/**
 * The HTTP application: one fastify instance, served by the daemon on a Unix socket and by
 * the team server on TCP (its options: route-spec.ts).
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { AuthyError, isAuthyError } from "../errors.js";
import { actorName } from "../vault/types.js";
import { admits, authenticate, badCredentials, bearerOf, lockedError, missingCredentials, notForCaller, type ActorKind, type Caller } from "./auth.js";
import { RefusalLog, REFUSAL_WINDOW_MS } from "./refusal-log.js";
import { limitKeys, tooManyFailures } from "./auth-limit.js";
import { ApiError, errorBody, statusOf } from "./http-status.js";
import { clientErrorHandler } from "./client-errors.js";
import { refusedBodies, registerJsonParser } from "./json-body.js";
import { DEFAULT_LIMITS, type ApiLimits } from "./limits.js";
import { registerRoutes } from "./routes.js";
import type { ApiOptions, RouteSpec } from "./route-spec.js";

export type { ApiOptions, ProcessTokenPolicy } from "./route-spec.js";

declare module "fastify" {
  interface FastifyContextConfig {
    callers?: readonly ActorKind[];
    free?: boolean;
    refusal?: string;
  }
  interface FastifyRequest {
    caller: Caller | null;
  }
}

/** Retry-After for an unavailable store: long enough not to hammer it, short enough to notice recovery. */
const DEFAULT_RETRY_AFTER_S = 2;

export async function buildApi(opts: ApiOptions): Promise<FastifyInstance> {
  const limits: ApiLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  // A team server has no owner terminal: its refusals name the credentials it takes instead.
  const onServer = opts.serverName !== undefined;
  // `https` is given to fastify as is (it then creates a TLS server); the types describe plain HTTP either way.
  const app = Fastify({
    logger: opts.logger ?? false,
    ...(opts.https ? { https: opts.https } : {}),
    ...(opts.trustProxy ? { trustProxy: opts.trustProxy } : {}),
    bodyLimit: limits.bodyLimit,
    routerOptions: { maxParamLength: limits.maxParamLength },
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    return503OnClosing: true,
    // HEAD on a secret would run the read (and audit it) only to drop the value.
    exposeHeadRoutes: false,
    // Refusals made before routing (a path that is not valid percent-encoding or is too long,
    // or what Node's HTTP parser refuses) answer in authy's error body too.
    frameworkErrors: (err, _req, reply) => {
      const e = asAuthyError(err);
      void (reply as FastifyReply).code(statusOf(e)).send(errorBody(e));
    },
    clientErrorHandler,
  });
  app.server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs || limits.headersTimeoutMs);
  app.server.maxConnections = limits.maxConnections;

  registerJsonParser(app, limits.maxJsonDepth);
  app.decorateRequest("caller", null);

  const refusals = new RefusalLog(async (who, action, resource, details) => {
    const vault = opts.vault();
    if (!vault) throw lockedError();
    await vault.recordRefusal(who, action, resource, details);
  });
  // Counts of repeated refusals are written when their window closes, and before the vault
  // locks (the server closes first: onClose runs while the vault is still there).
  const flushTimer = setInterval(() => void refusals.flushExpired(), REFUSAL_WINDOW_MS);
  flushTimer.unref();
  app.addHook("onClose", async () => {
    clearInterval(flushTimer);
    await refusals.flushAll();
  });

  // Authentication runs before the body is read, so an unauthenticated client cannot make
  // the server buffer megabytes. Every refusal here is audited (bounded): the route is named
  // by its pattern, never by the URL as sent.
  app.addHook("onRequest", async (req) => {
    const callers = req.routeOptions.config.callers;
    if (!callers || callers.length === 0) return;
    const peer = opts.peer?.(req) ?? null;
    try {
      req.caller = await identify(req, callers, peer);
    } catch (e) {
      const refusal = req.routeOptions.config.refusal;
      if (refusal) await opts.onRefused?.(refusal, peer, e);
      throw e;
    }
  });

  /**
   * Who is calling: a bearer credential if one is given, else the owner's terminal (the
   * daemon). Every refusal is noted in the refusal log.
   */
  async function identify(req: FastifyRequest, callers: readonly ActorKind[], peer: unknown): Promise<Caller> {
    const resource = `${req.method} ${req.routeOptions.url ?? "?"}`;
    const started = performance.now();
    const limiter = opts.authLimiter;
    // A failed attempt is answered no sooner than the floor (unknown and wrong credentials alike).
    const floor = async (): Promise<void> => {
      const left = (opts.authFailureFloorMs ?? 0) - (performance.now() - started);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    };
    let bearer: string | undefined;
    try {
      bearer = bearerOf(req.headers.authorization);
    } catch {
      await refusals.note({ actor: "bearer:unknown", action: "auth.denied", resource, reason: "malformed authorization header" });
      await limiter?.failed(limitKeys(undefined, req.ip));
      await floor();
      throw badCredentials(onServer);
    }
    let caller: Caller;
    if (bearer !== undefined) {
      const keys = limiter ? limitKeys(bearer, req.ip) : [];
      const wait = limiter ? await limiter.blockedFor(keys) : 0;
      if (wait > 0) {
        await refusals.note({
          actor: keys[0]?.startsWith("id:") ? "bearer:limited" : "bearer:unknown",
          action: "auth.limited",
          resource,
          reason: "too many failed attempts",
        });
        throw tooManyFailures(wait);
      }
      try {
        caller = await authenticate(opts, bearer, { spend: false, peer, refused: (r) => refusals.note(r), resource });
      } catch (e) {
        // Counted against the limits (a store that is down is not a failed attempt).
        if (isAuthyError(e) && statusOf(e) === 401) {
          await limiter?.failed(keys);
          await floor();
        }
        throw e;
      }
    } else if (opts.isOwnerPeer?.(peer)) {
      const vault = opts.vault();
      caller = { actor: vault ? vault.actor : { kind: "owner" }, vault, via: "terminal" };
    } else {
      await refusals.note({ actor: "bearer:none", action: "auth.denied", resource, reason: "no credentials" });
      throw missingCredentials(onServer);
    }
    opts.onActivity?.();
    if (caller.actor.kind === "agent" && opts.agentKeysDirect && (callers.includes("agent") || callers.includes("token"))) {
      // The exchange done here, for this one request: the agent acts within its own scope, as itself.
      const actor = { ...caller.actor, direct: true as const };
      caller = { actor, vault: opts.vault()?.as(actor) ?? null };
    }
    if (!admits(callers, caller.actor)) {
      await refusals.note({
        actor: actorName(caller.actor),
        action: "request.denied",
        resource,
        reason: caller.actor.kind === "agent" ? "agent keys only obtain tokens" : caller.actor.kind === "member" ? "admin only" : "owner only",
      });
      throw notForCaller(caller.actor.kind, onServer);
    }
    // A use is spent only now that the route is the caller's, and given back if the request
    // releases nothing (handler below): what a token's uses count is what it obtained.
    if (caller.uses && !req.routeOptions.config.free && !(await caller.uses.spend())) throw badCredentials(onServer);
    return caller;
  }

  app.addHook("onSend", async (_req, reply) => {
    // Responses carry values and credentials: no cache anywhere may keep them.
    reply.header("cache-control", "no-store");
  });

  app.setErrorHandler(async (err: FastifyError | AuthyError, req, reply) => {
    const e = asAuthyError(err);
    // What fastify itself refused (too large, not JSON, nested too deep) is audited as the core's refusals are, bounded.
    if ((!isAuthyError(err) || refusedBodies.has(err)) && e instanceof ApiError && e.status < 500) {
      const actor = req.caller ? actorName(req.caller.actor) : "bearer:unknown";
      await refusals
        .note({ actor, action: "request.refused", resource: `${req.method} ${req.routeOptions.url ?? "?"}`, reason: e.message })
        .catch((noted: unknown) => opts.onInternalError?.(noted));
    }
    if (e.code === "INTERNAL" && !isAuthyError(err)) opts.onInternalError?.(err);
    const status = statusOf(e);
    if (status === 401) reply.header("www-authenticate", 'Bearer realm="authy"');
    // A store that is down or busy, or a caller over a limit: when to try again.
    if ((status === 503 || status === 429) && !reply.hasHeader("retry-after")) reply.header("retry-after", String(retryAfterSeconds(e)));
    return reply.code(status).send(errorBody(e));
  });

  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).send(errorBody(new AuthyError("NOT_FOUND", "no such API route", { hint: "the API lives under /v1; see GET /v1/health" }))),
  );

  const add = (spec: RouteSpec): void => {
    app.route({
      method: spec.method,
      url: spec.url,
      ...(spec.bodyLimit === undefined ? {} : { bodyLimit: spec.bodyLimit }),
      config: { callers: spec.callers, free: spec.free ?? false, ...(spec.refusal ? { refusal: spec.refusal } : {}) },
      handler: async (req, reply) => {
        const caller: Caller = req.caller ?? { actor: { kind: "owner" }, vault: null };
        try {
          return await spec.handler(req, caller, reply);
        } catch (e) {
          // Refused, not found, waiting for an approval, bad input: nothing was released.
          if (caller.uses && !spec.free) await caller.uses.refund().catch(() => undefined);
          throw e;
        }
      },
    });
  };
  registerRoutes(add, { opts, limits, refusals });
  await app.ready();
  return app;
}

/** Seconds a client should wait before retrying: the error's own figure (a rate limit), else a short pause. */
function retryAfterSeconds(e: AuthyError): number {
  const given = e.details?.retryAfterSeconds;
  return typeof given === "number" && given > 0 ? Math.ceil(given) : DEFAULT_RETRY_AFTER_S;
}

/** What fastify itself refuses (body too large, bad JSON, bad URL) as AuthyErrors; anything else is INTERNAL. */
function asAuthyError(err: FastifyError | AuthyError): AuthyError {
  if (isAuthyError(err)) return err;
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new ApiError(413, "INVALID_INPUT", "request body is too large", { hint: "values are at most 1 MiB; import a large namespace in parts" });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new ApiError(415, "INVALID_INPUT", "unsupported content type", { hint: "send application/json" });
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new ApiError(400, "INVALID_INPUT", "request body is not valid JSON");
    case "FST_ERR_BAD_URL":
      return new ApiError(400, "INVALID_INPUT", "malformed URL", { hint: "percent-encode the path as UTF-8" });
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new ApiError(414, "INVALID_INPUT", "the request path is too long");
  }
  const status = typeof err.statusCode === "number" ? err.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors: short, fixed messages that never quote the request body.
    return new ApiError(status, "INVALID_INPUT", err.message.slice(0, 200));
  }
  return new AuthyError("INTERNAL", "internal error", { hint: "this is a bug in authy; the daemon log may say more" });
}
