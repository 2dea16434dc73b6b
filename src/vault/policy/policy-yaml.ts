import { Document, LineCounter, isMap, isScalar, isSeq, parseDocument, visit, type Node } from "yaml";
import { z } from "zod";
import { AuthyError } from "../../errors.js";
import { allowedHostProblem } from "../../formats/allowed-host.js";
import { CAPABILITIES, type Capability } from "./capability.js";
import { emptyScopes, MAX_POLICY_BYTES, scopeNameProblem } from "./policy-document.js";

export { MAX_POLICY_BYTES };
import { patternProblem } from "./pattern.js";
import type { PolicyDocument, Rule, Scope } from "./scope.js";

// The policy file (DESIGN.md section 2):
//
//   scopes:
//     deploy:
//       description: CI deploys to production
//       allow:
//         - { path: "production/*", capabilities: [read, list] }
//       deny:
//         - { path: "production/ROOT_*" }          # capabilities default to all five
//       sandbox:                                   # optional: see ScopeSandbox
//         required: true
//         write: ["~/.cache/deploy"]
//         read: ["~/.ssh/known_hosts"]
//         hosts: ["api.example.com:443"]
//
// Every problem is reported with its line, all at once: "<source>:<line>: <problem>", one per
// line of the message, and as details.errors. Unknown keys, duplicate keys, unknown
// capabilities, invalid patterns and scope names, and scopes that allow nothing are errors.
// `scopes: {}` is a valid (empty) policy; a file without a `scopes` map is not.

export interface PolicyProblem {
  line: number;
  message: string;
}

const pattern = z.string().superRefine((value, ctx) => {
  const problem = patternProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});
const capabilities = z
  .array(z.enum(CAPABILITIES))
  .min(1)
  .superRefine((caps, ctx) => {
    caps.forEach((cap, i) => {
      if (caps.indexOf(cap) !== i) ctx.addIssue({ code: "custom", message: `capability ${cap} is repeated`, path: [i] });
    });
  });
const allowRule = z.strictObject({ path: pattern, capabilities });
const denyRule = z.strictObject({ path: pattern, capabilities: capabilities.optional() });
/** A sandbox path: long enough for any real one, never a NUL. */
const MAX_SANDBOX_PATH_LENGTH = 4096;
const sandboxPath = z
  .string()
  .min(1)
  .max(MAX_SANDBOX_PATH_LENGTH)
  .refine((p) => !p.includes("\0"), "a path cannot contain a NUL byte");
const sandboxHost = z.string().superRefine((value, ctx) => {
  const problem = allowedHostProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
});
const sandboxSchema = z.strictObject({
  required: z.boolean().optional(),
  write: z.array(sandboxPath).optional(),
  read: z.array(sandboxPath).optional(),
  hosts: z.array(sandboxHost).optional(),
});
const scopeSchema = z.strictObject({
  description: z.string().optional(),
  mcp: z.literal("reveal").optional(),
  allow: z.array(allowRule).optional(),
  deny: z.array(denyRule).optional(),
  sandbox: sandboxSchema.optional(),
});
/** The keys each level accepts, for "unknown key" messages. */
function knownKeys(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "description, mcp, allow, deny, sandbox";
  if (path[0] === "sandbox") return "required, write, read, hosts";
  return "path, capabilities";
}
/** Aliases expand on conversion; this bounds a "billion laughs" file. */
const MAX_ALIAS_COUNT = 100;

type PathKey = PropertyKey;

function keyOf(node: unknown): unknown {
  return isScalar(node) ? node.value : node;
}

function startOf(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

/**
 * The start offset of the node at `path` below `root`, or of the nearest key or list item on
 * the way to it. `anchor` is where `root` itself is reported (its key).
 */
function locate(root: unknown, anchor: number, path: readonly PathKey[], keyOnly = false): number {
  let node = root;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String(keyOf(p.key)) === String(step));
      if (pair === undefined) return anchor;
      anchor = startOf(pair.key) ?? anchor;
      node = pair.value;
    } else if (isSeq(node) && typeof step === "number") {
      const item = node.items[step];
      const start = startOf(item);
      if (start === undefined) return anchor;
      anchor = start;
      node = item;
    } else {
      return anchor;
    }
  }
  // A scalar is reported where it is; a collection (or a bare key) where its key or dash is.
  if (!keyOnly && isScalar(node)) return startOf(node) ?? anchor;
  return anchor;
}

function where(path: readonly PathKey[]): string {
  let out = "";
  for (const step of path) out += typeof step === "number" ? `[${step}]` : out === "" ? String(step) : `.${String(step)}`;
  return out === "" ? "policy" : out;
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const at = where(issue.path);
  switch (issue.code) {
    case "invalid_type": {
      const last = issue.path[issue.path.length - 1];
      if (issue.input === undefined) return `${where(issue.path.slice(0, -1))}: missing ${String(last)}`;
      const expected = issue.expected === "object" || issue.expected === "record" ? "a mapping" : issue.expected === "array" ? "a list" : `a ${issue.expected}`;
      return `${at}: expected ${expected}, got ${typeName(issue.input)}`;
    }
    case "invalid_value":
      return `${at}: unknown capability ${JSON.stringify(issue.input)} (expected one of ${CAPABILITIES.join(", ")})`;
    case "too_small":
      return `${at}: lists no capabilities (to deny all, leave capabilities out of a deny rule)`;
    default:
      return `${at}: ${issue.message}`;
  }
}

function problemsFromZod(lines: LineCounter, error: z.ZodError, root: unknown, anchor: number, prefix: PathKey[]): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const lineOf = (path: readonly PathKey[], keyOnly = false): number => lines.linePos(locate(root, anchor, path, keyOnly)).line;
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const known = knownKeys(issue.path);
        out.push({
          line: lineOf([...issue.path, key], true),
          message: `${where([...prefix, ...issue.path, key])}: unknown key ${JSON.stringify(key)} (expected ${known})`,
        });
      }
      continue;
    }
    out.push({ line: lineOf(issue.path), message: describeIssue({ ...issue, path: [...prefix, ...issue.path] }) });
  }
  return out;
}

/** Duplicate keys (the parser is told to keep them) and aliases that point nowhere. */
function keyAndAliasProblems(doc: Document, lines: LineCounter, scopesNode: unknown): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const lineAt = (node: unknown): number => lines.linePos(startOf(node) ?? 0).line;
  visit(doc, {
    Map(_key, map) {
      const firstLine = new Map<string, number>();
      for (const pair of map.items) {
        const key = String(keyOf(pair.key));
        const line = lineAt(pair.key);
        const first = firstLine.get(key);
        if (first === undefined) firstLine.set(key, line);
        else out.push({ line, message: `duplicate ${map === scopesNode ? "scope name" : "key"} ${JSON.stringify(key)} (first at line ${first})` });
      }
    },
    Alias(_key, alias) {
      if (alias.resolve(doc) === undefined) {
        out.push({ line: lineAt(alias), message: `YAML: unknown alias *${alias.source} (a value starting with * is an alias: quote patterns such as "**")` });
      }
    },
  });
  return out;
}

function fail(source: string, problems: PolicyProblem[]): never {
  problems.sort((a, b) => a.line - b.line);
  const lines = problems.map((p) => `${source}:${p.line}: ${p.message}`);
  throw new AuthyError("INVALID_INPUT", lines.join("\n"), {
    hint: "fix the policy file and apply it again; see `authy policy --help` for the format",
    details: { source, errors: problems },
  });
}

function toRule(raw: { path: string; capabilities?: Capability[] | undefined }): Rule {
  return { path: raw.path, capabilities: raw.capabilities ? [...raw.capabilities] : [...CAPABILITIES] };
}

/** Parses and validates a policy file; throws INVALID_INPUT listing every problem with its line. */
export function parsePolicyYaml(text: string, source = "policy"): PolicyDocument {
  if (text.length > MAX_POLICY_BYTES) {
    fail(source, [{ line: 1, message: `policy file is larger than ${MAX_POLICY_BYTES} bytes` }]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  if (doc.errors.length > 0) {
    fail(
      source,
      doc.errors.map((e) => ({ line: lines.linePos(e.pos[0]).line, message: `YAML: ${e.message.split("\n")[0]}` })),
    );
  }
  const lineAt = (offset: number | undefined): number => lines.linePos(offset ?? 0).line;
  const top = doc.contents;
  if (!isMap(top)) {
    fail(source, [{ line: lineAt(startOf(top)), message: "expected a mapping with a `scopes` key" }]);
  }
  const problems: PolicyProblem[] = [];
  let scopesNode: unknown;
  let scopesLine = 1;
  for (const pair of top.items) {
    const key = keyOf(pair.key);
    if (key === "scopes") {
      if (scopesNode === undefined) {
        scopesNode = pair.value ?? null;
        scopesLine = lineAt(startOf(pair.key));
      }
    } else {
      problems.push({ line: lineAt(startOf(pair.key)), message: `unknown key ${JSON.stringify(String(key))} (expected scopes)` });
    }
  }
  const yamlProblems = keyAndAliasProblems(doc, lines, scopesNode);
  problems.unshift(...yamlProblems);
  if (scopesNode === undefined) fail(source, [...problems, { line: 1, message: "missing `scopes` (a mapping of scope names to scopes)" }]);
  if (!isMap(scopesNode)) {
    fail(source, [...problems, { line: scopesLine, message: "scopes: expected a mapping of scope names to scopes (write `scopes: {}` for none)" }]);
  }

  const scopes = emptyScopes();
  for (const pair of scopesNode.items) {
    const name = String(keyOf(pair.key));
    const keyOffset = startOf(pair.key) ?? 0;
    const line = lineAt(keyOffset);
    const nameProblem = scopeNameProblem(name);
    if (nameProblem !== undefined) problems.push({ line, message: nameProblem });
    const node = pair.value as Node | null;
    let raw: unknown;
    try {
      raw = node === null ? null : node.toJS(doc, { maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      // An unknown alias is already reported where it is; anything else (too many aliases) here.
      if (!yamlProblems.some((p) => p.message.includes("alias"))) {
        problems.push({ line, message: `YAML: ${e instanceof Error ? e.message : String(e)}` });
      }
      continue;
    }
    if (raw === null || raw === undefined) {
      problems.push({ line, message: `scope ${JSON.stringify(name)} is empty: add allow rules` });
      continue;
    }
    const parsed = scopeSchema.safeParse(raw, { reportInput: true });
    if (!parsed.success) {
      problems.push(...problemsFromZod(lines, parsed.error, node, keyOffset, ["scopes", name]));
      continue;
    }
    const allow = (parsed.data.allow ?? []).map(toRule);
    if (allow.length === 0) {
      problems.push({ line, message: `scope ${JSON.stringify(name)} allows nothing: add at least one allow rule` });
    }
    const scope: Scope = { name, allow, deny: (parsed.data.deny ?? []).map(toRule) };
    if (parsed.data.description !== undefined) scope.description = parsed.data.description;
    const box = parsed.data.sandbox;
    if (box !== undefined) scope.sandbox = { required: box.required ?? false, write: box.write ?? [], read: box.read ?? [], hosts: box.hosts ?? [] };
    if (parsed.data.mcp !== undefined) scope.mcp = parsed.data.mcp;
    if (!Object.hasOwn(scopes, name)) scopes[name] = scope;
  }
  if (problems.length > 0) fail(source, problems);
  return { scopes };
}

/** The policy as a YAML file in the format parsePolicyYaml reads (for `policy show`). */
export function serializePolicy(policy: PolicyDocument): string {
  const plain = new Map<string, unknown>();
  const rule = (r: Rule, deny: boolean): Record<string, unknown> =>
    deny && CAPABILITIES.every((c) => r.capabilities.includes(c)) ? { path: r.path } : { path: r.path, capabilities: r.capabilities };
  for (const [name, scope] of Object.entries(policy.scopes)) {
    const out: Record<string, unknown> = {};
    if (scope.description !== undefined) out.description = scope.description;
    if (scope.mcp !== undefined) out.mcp = scope.mcp;
    out.allow = scope.allow.map((r) => rule(r, false));
    if (scope.deny.length > 0) out.deny = scope.deny.map((r) => rule(r, true));
    if (scope.sandbox !== undefined) {
      const { required, write, read, hosts } = scope.sandbox;
      out.sandbox = { required, ...(write.length ? { write } : {}), ...(read.length ? { read } : {}), ...(hosts.length ? { hosts } : {}) };
    }
    plain.set(name, out);
  }
  const doc = new Document({ scopes: plain });
  // Rules on one line each, as in the documentation; patterns always quoted (a leading * is YAML's alias sigil).
  visit(doc, {
    Seq(_key, seq) {
      for (const item of seq.items) if (isMap(item) && item.has("path")) item.flow = true;
    },
    Pair(_key, pair) {
      if (isScalar(pair.key) && pair.key.value === "path" && isScalar(pair.value)) pair.value.type = "QUOTE_DOUBLE";
    },
  });
  return doc.toString({ lineWidth: 0 });
}
