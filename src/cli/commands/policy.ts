import { AuthyError } from "../../errors.js";
import { POLICY_LIMIT, readFileBounded } from "../../files/bounded-read.js";
import { isCapability } from "../../vault/policy/capability.js";
import type { CliContext } from "../context.js";
import { readStdin } from "../input.js";

export async function apply(ctx: CliContext, file: string): Promise<void> {
  const text = (file === "-" ? await readStdin("the policy", POLICY_LIMIT) : await readFileBounded(file, POLICY_LIMIT)).toString("utf8");
  const vault = await ctx.client();
  const doc = await vault.applyPolicy(text, file === "-" ? "stdin" : file);
  const names = Object.keys(doc.scopes).sort();
  ctx.out.result({ scopes: names }, () => "");
  ctx.out.info(`applied the policy: ${names.length} scope(s)${names.length ? ` (${names.join(", ")})` : ""}`);
}

export async function show(ctx: CliContext): Promise<void> {
  const vault = await ctx.client();
  const doc = await vault.policy();
  const { serializePolicy: serialize } = await import("../../vault/policy/policy-yaml.js");
  ctx.out.result(doc, () => (Object.keys(doc.scopes).length === 0 ? "# no policy applied yet (authy policy apply FILE)" : serialize(doc)));
}

export async function test(ctx: CliContext, scope: string, path: string, capability: string): Promise<number> {
  if (!isCapability(capability))
    throw new AuthyError("INVALID_INPUT", `unknown capability ${JSON.stringify(capability)}`, { hint: "one of read, list, write, delete, rotate, approve" });
  const vault = await ctx.client();
  const d = await vault.testPolicy(scope, path, capability);
  const why =
    d.rule.kind === "default"
      ? "no rule allows it (default deny)"
      : `${d.rule.kind} rule ${d.rule.index !== undefined ? `#${d.rule.index + 1} ` : ""}${JSON.stringify(d.rule.path)}`;
  const box = d.sandbox;
  const sandbox = box
    ? `\nsandbox: ${box.required ? "required" : "optional"}${box.write.length ? `; write ${box.write.join(", ")}` : ""}${box.read.length ? `; read ${box.read.join(", ")}` : ""}${box.hosts.length ? `; hosts ${box.hosts.join(", ")}` : ""}`
    : "";
  ctx.out.result(
    { scope: d.scope, path, capability, allowed: d.allowed, rule: d.rule, sandbox: box ?? null },
    () => `${d.allowed ? "allow" : "deny"}: ${why}${sandbox}`,
  );
  // Like `test(1)`: scripts can branch on the answer.
  return d.allowed ? 0 : 4;
}
