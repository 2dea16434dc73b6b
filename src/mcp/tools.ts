/**
 * The tools `authy mcp` offers a model, and what each does. No tool returns a value except
 * read_secret, which exists only when the scope says `mcp: reveal`. Every call is audited
 * (`mcp.tool`, with the tool and what it touched) and every refusal comes back as a tool error
 * the model can read and act on, never a protocol error or a stack trace.
 */
import { z } from "zod";
import { AuthyError, isAuthyError } from "../errors.js";
import type { VaultClient } from "../client/vault-client.js";
import { parseReference } from "../formats/reference.js";
import { validateEnvName } from "../run/env.js";
import { utf8Text } from "../vault/utf8-text.js";
import { DEFAULT_TIMEOUT_S, MAX_OUTPUT_BYTES, MAX_TIMEOUT_S, type RunOutcome, type RunRequest } from "./run-command.js";

export interface ToolBackend {
  client(): Promise<VaultClient>;
  run(req: RunRequest): Promise<RunOutcome>;
  /** The scope run_command injects when the call names no references. */
  defaultScope: string | undefined;
}

interface ToolResult {
  [key: string]: unknown;
  content: { type: "text"; text: string }[];
  isError?: boolean;
}

interface Tool {
  name: string;
  description: string;
  inputSchema: z.ZodObject;
  /** Returns the result and what it touched, for the audit entry. */
  call(b: ToolBackend, args: never): Promise<CallResult>;
}

type CallResult = { result: unknown; resource: string; details?: Record<string, unknown> };

const path = z.string().min(1).max(255).describe("a secret path, namespace/KEY");

const listSecrets: Tool = {
  name: "list_secrets",
  description: "List the secrets this agent may see: path, type, tier (standard, sensitive, critical), last update. Never values.",
  inputSchema: z.strictObject({ namespace: z.string().max(255).optional().describe("only this namespace and below") }),
  async call(b, args: { namespace?: string }) {
    const items = await (await b.client()).listSecrets({ namespace: args.namespace, recursive: true });
    const result = items.map((s) => ({
      path: s.path,
      type: s.type,
      tier: s.tier,
      updated: new Date(s.updatedAt).toISOString(),
      ...(s.expiresAt ? { expires: new Date(s.expiresAt).toISOString() } : {}),
    }));
    return { result: { secrets: result }, resource: args.namespace ?? "*", details: { count: result.length } };
  },
};

const requestAccess: Tool = {
  name: "request_access",
  description:
    "Ask the owner for access to a sensitive or critical secret, with a reason shown to them. Returns the approval id and status; poll it with check_access, then use the secret (run_command). Call once per need: an approved single-use request is spent by the next use.",
  inputSchema: z.strictObject({
    path,
    capability: z.enum(["read"]).describe("what for (read: to inject it into a command)"),
    reason: z.string().min(1).max(1000).describe("why, in a sentence the owner will read"),
  }),
  async call(b, args: { path: string; capability: "read"; reason: string }) {
    const client = await b.client();
    const meta = await client.describeSecret(args.path);
    if (meta.tier === "standard") {
      return {
        result: { path: meta.path, tier: meta.tier, status: "not_needed", message: "standard secrets need no approval; your scope decides" },
        resource: meta.path,
      };
    }
    try {
      const { value } = await client.getSecret(args.path, { reason: args.reason });
      value.fill(0);
      return { result: { path: meta.path, tier: meta.tier, status: "granted", message: "a grant is active: use the secret now" }, resource: meta.path };
    } catch (e) {
      const id = isAuthyError(e) && e.code === "APPROVAL_REQUIRED" ? approvalId(e) : undefined;
      if (!id) throw e;
      const a = await client.getApproval(id);
      return {
        result: {
          id: a.id,
          path: a.path,
          tier: a.tier,
          status: a.status,
          expires: new Date(a.expiresAt).toISOString(),
          message: `ask the owner to run: authy approvals approve ${a.id}`,
        },
        resource: meta.path,
        details: { approval: a.id },
      };
    }
  },
};

const checkAccess: Tool = {
  name: "check_access",
  description: "The status of an approval request made with request_access: pending, approved, denied (with the owner's reason), expired or used.",
  inputSchema: z.strictObject({
    id: z
      .string()
      .regex(/^apr_[A-Za-z0-9_-]+$/)
      .describe("the apr_… id from request_access"),
  }),
  async call(b, args: { id: string }) {
    const a = await (await b.client()).getApproval(args.id);
    return {
      result: {
        id: a.id,
        path: a.path,
        status: a.status,
        ...(a.decisionReason ? { reason: a.decisionReason } : {}),
        ...(a.grantUntil ? { grantUntil: new Date(a.grantUntil).toISOString() } : {}),
      },
      resource: a.path,
      details: { approval: a.id, status: a.status },
    };
  },
};

const runCommandTool: Tool = {
  name: "run_command",
  description:
    `Run a command with secrets in its environment, as \`authy run\` does: the values never reach you; its output comes back with every secret masked, at most ${MAX_OUTPUT_BYTES / 1024} KiB per stream (the rest is cut and counted). ` +
    "Give `env` (NAME → authy://namespace/KEY) to inject those secrets, or nothing to inject every secret of the server's scope.",
  inputSchema: z.strictObject({
    command: z
      .union([
        z
          .string()
          .min(1)
          .max(64 * 1024),
        z
          .array(z.string().max(64 * 1024))
          .min(1)
          .max(1000),
      ])
      .describe("a shell command line (run by sh -c) or an argv array"),
    env: z.record(z.string(), z.string()).optional().describe("variables to inject: NAME → authy://namespace/KEY"),
    cwd: z.string().max(4096).optional().describe("working directory"),
    timeout_seconds: z.number().int().min(1).max(MAX_TIMEOUT_S).optional().describe(`default ${DEFAULT_TIMEOUT_S}`),
  }),
  async call(b, args: { command: string | string[]; env?: Record<string, string>; cwd?: string; timeout_seconds?: number }) {
    const refs = Object.entries(args.env ?? {}).map(([name, ref]) => {
      validateEnvName(name);
      return { name, path: parseReference(ref).path };
    });
    if (refs.length === 0 && !b.defaultScope) {
      throw new AuthyError("INVALID_INPUT", "no secrets to inject: give env (NAME → authy://namespace/KEY); this server has no --scope");
    }
    const argv = typeof args.command === "string" ? ["sh", "-c", args.command] : args.command;
    const out = await b.run({
      argv,
      refs,
      ...(refs.length === 0 ? { scope: b.defaultScope } : {}),
      timeoutS: args.timeout_seconds ?? DEFAULT_TIMEOUT_S,
      ...(args.cwd ? { cwd: args.cwd } : {}),
    });
    const result = {
      exitCode: out.exitCode,
      ...(out.timedOut ? { timedOut: true } : {}),
      stdout: out.stdout,
      stderr: out.stderr,
      ...(out.truncated.stdout || out.truncated.stderr ? { truncatedBytes: out.truncated } : {}),
    };
    return {
      result,
      resource: refs.length ? refs.map((r) => r.path).join(",") : `scope:${b.defaultScope}`,
      details: { command: argv[0], exitCode: out.exitCode, injected: refs.map((r) => r.path) },
    };
  },
};

const readSecret: Tool = {
  name: "read_secret",
  description: "Return a secret's value. Offered only because this scope's policy says `mcp: reveal`: the value enters your context; prefer run_command.",
  inputSchema: z.strictObject({ path, reason: z.string().max(1000).optional().describe("why, shown to the owner if an approval is needed") }),
  async call(b, args: { path: string; reason?: string }) {
    const { meta, value } = await (await b.client()).getSecret(args.path, args.reason ? { reason: args.reason } : {});
    const text = utf8Text(value);
    const result = text === null ? { path: meta.path, valueBase64: Buffer.from(value).toString("base64") } : { path: meta.path, value: text };
    value.fill(0);
    return { result, resource: meta.path };
  },
};

/** The tools for a scope: read_secret only when its policy says `mcp: reveal`. */
export function toolsFor(reveal: boolean): Tool[] {
  return reveal ? [listSecrets, requestAccess, checkAccess, runCommandTool, readSecret] : [listSecrets, requestAccess, checkAccess, runCommandTool];
}

export function describeTools(tools: readonly Tool[]): { name: string; description: string; inputSchema: Record<string, unknown> }[] {
  return tools.map((t) => {
    const { $schema: _drop, ...schema } = z.toJSONSchema(t.inputSchema) as Record<string, unknown>;
    return { name: t.name, description: t.description, inputSchema: schema };
  });
}

/** One tool call: validated, done, audited; any failure as a readable tool error. */
export async function callTool(tools: readonly Tool[], b: ToolBackend, name: string, rawArgs: unknown): Promise<ToolResult> {
  const tool = tools.find((t) => t.name === name);
  if (!tool) {
    await audit(b, name.slice(0, 64), "-", { outcome: "unknown tool" }).catch(() => undefined);
    return toolError(new AuthyError("INVALID_INPUT", `no tool ${JSON.stringify(name.slice(0, 64))}: the tools are ${tools.map((t) => t.name).join(", ")}`));
  }
  const parsed = tool.inputSchema.safeParse(rawArgs ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join(".") : "arguments";
    await audit(b, tool.name, "-", { outcome: "invalid" }).catch(() => undefined);
    return toolError(new AuthyError("INVALID_INPUT", `${tool.name}: ${where}: ${issue.message}`));
  }
  let done: CallResult;
  try {
    done = await tool.call(b, parsed.data as never);
  } catch (e) {
    const err = isAuthyError(e) ? e : new AuthyError("INTERNAL", `${tool.name} failed unexpectedly`);
    await audit(b, tool.name, resourceOf(parsed.data), { outcome: "refused", code: err.code }).catch(() => undefined);
    return toolError(err);
  }
  try {
    await audit(b, tool.name, done.resource, { ...done.details, outcome: "ok" });
  } catch {
    // Nothing is returned that the audit log does not show.
    return toolError(new AuthyError("UNAVAILABLE", `${tool.name}: the audit entry could not be written, so the result is withheld`));
  }
  return { content: [{ type: "text", text: JSON.stringify(done.result, null, 2) }] };
}

function resourceOf(args: unknown): string {
  const a = args as { path?: string; namespace?: string; id?: string }; // parsed by the tool's schema
  return String(a.path ?? a.namespace ?? a.id ?? "-").slice(0, 255);
}

async function audit(b: ToolBackend, tool: string, resource: string, details: Record<string, unknown>): Promise<void> {
  await (await b.client()).recordEvent("mcp.tool", resource, { tool, ...details });
}

/** What the model reads when a tool refuses: what happened and what to do next. */
function toolError(e: AuthyError): ToolResult {
  let text = `error (${e.code.toLowerCase()}): ${e.message}`;
  if (e.code === "APPROVAL_REQUIRED") {
    const id = approvalId(e);
    text = id ? `needs approval ${id}: ask the owner to run \`authy approvals approve ${id}\`, then check it with check_access` : `${text}; use request_access`;
  } else if (e.hint) text += ` (${e.hint})`;
  return { content: [{ type: "text", text }], isError: true };
}

function approvalId(e: AuthyError): string | undefined {
  const fromDetails = e.details?.approvalId;
  if (typeof fromDetails === "string") return fromDetails;
  return /\bapr_[A-Za-z0-9_-]+/.exec(e.message)?.[0];
}
