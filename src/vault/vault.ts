import { AuthyError } from "../errors.js";
import type { Store } from "../store/store.js";
import { appendAudit } from "./audit-chain.js";
import type { VaultContext } from "./context.js";
import { exportEnv, importEnv, type EnvEntry, type ImportOptions, type ImportPlan } from "./env-transfer.js";
import { createKeys, lockedError, openKeys, sealVaultRow, slotInfo, verifyVaultRow, type Credential, type SlotInfo } from "./key-slots.js";
import { Keyring } from "./keyring.js";
import { FreshStore } from "./fresh-store.js";
import { listSettings, setSetting, type SettingEntry } from "./settings.js";
import { adoptState } from "./state-adopt.js";
import { failuresForDelay, reconcileFailures } from "./unlock-failures.js";
import { unlockDelayMs, type InitOptions, type VaultDeps, type VaultStatus } from "./vault-options.js";

export { unlockDelayMs, type InitOptions, type VaultStatus } from "./vault-options.js";
import { macListing } from "./secret-rows.js";
import * as secrets from "./secrets.js";
import { audit } from "./audit-log.js";
import { auditRefusedCredential, authorize } from "./access.js";
import { recordEvent } from "./events.js";
import { exportAll } from "./export-all.js";
import * as keys from "./key-management.js";
import { endRun, type RunEnd } from "./run-record.js";
import { validatePath } from "./path.js";
import { actorName, type Actor, type SecretMeta, type SecretSummary, type SetOptions, type VersionInfo } from "./types.js";
import type { VerifyReport } from "./verify.js";
import type { Dispatch, DispatchRequest } from "./dispatch.js";
import type { Capability } from "./policy/capability.js";
import type { Decision, PolicyDocument, Scope, ScopeSandbox } from "./policy/scope.js";
import type { AgentInfo, AgentKeyCheck } from "./agents.js";
import type { AddMemberOptions, MemberInfo, MemberKeyCheck } from "./members.js";
import type { CreateTokenOptions, TokenCheck, TokenInfo } from "./tokens.js";
import * as approvals from "./approvals.js";
import type { ApproveOptions } from "./approvals.js";
import type { ApprovalInfo } from "./approval-rows.js";
import type { AuditFilter, AuditPage } from "./audit-query.js";
import type { AuditVerifyOptions, AuditVerifyReport } from "./audit-verify.js";
import type { AuditCheckpoint } from "./audit-checkpoint.js";
import type { RotateOptions, Rotated } from "./rotate.js";
import type { MoveOptions } from "./move.js";

/*
 * Policies, dispatch, agents and tokens pull in the YAML and schema libraries; they are
 * loaded on first use so that `authy secrets get` does not pay for them (a bench target).
 */
const policies = () => import("./policies.js");
const dispatching = () => import("./dispatch.js");
const agents = () => import("./agents.js");
const members = () => import("./members.js");
const tokens = () => import("./tokens.js");
const auditQuery = () => import("./audit-query.js");
const rotating = () => import("./rotate.js");
const moving = () => import("./move.js");
const auditVerify = () => import("./audit-verify.js");
const auditCheckpoint = () => import("./audit-checkpoint.js");
// The full check reads every table (tokens and policy bring zod and yaml): loaded by doctor and restore only.
const verifying = () => import("./verify.js");

/**
 * An unlocked vault: the one door to the core. Every method is one logical operation, with
 * its audit entry written in the same transaction.
 */
export class Vault {
  private readonly ctx: VaultContext;

  private constructor(ctx: VaultContext) {
    this.ctx = ctx;
  }

  get actor(): Actor {
    return this.ctx.actor;
  }

  get vaultId(): string {
    return Buffer.from(this.ctx.keys.vaultId).toString("hex");
  }

  /** Creates a new vault in an empty store. */
  static async init(deps: VaultDeps, opts: InitOptions): Promise<Vault> {
    if (await deps.store.getVault()) {
      throw new AuthyError("ALREADY_EXISTS", "a vault already exists here", { hint: "use it, or choose another --home" });
    }
    const now = deps.clock.now();
    const { keys, slots } = await createKeys(now, opts);
    const store = new FreshStore(deps.store, keys);
    const ctx: VaultContext = { store, unchecked: deps.store, clock: deps.clock, keys, actor: { kind: "owner" }, approvals: deps.approvals };
    await store.writeState("create", async (tx) => {
      if (await tx.getVault()) throw new AuthyError("ALREADY_EXISTS", "a vault already exists here");
      await tx.putVault(sealVaultRow(keys, now, macListing(keys, ""), await tx.unlockFailureCounter()));
      for (const s of slots) await tx.putSlot(s);
      await appendAudit(tx, keys, [
        { ts: now, actor: "owner", action: "vault.init", resource: "vault", outcome: "ok", details: { slots: slots.map((s) => s.kind) } },
      ]);
    });
    return new Vault(ctx);
  }

  /** What can be known without a key. */
  static async status(store: Store): Promise<VaultStatus> {
    const vault = await store.getVault();
    if (!vault) return { initialized: false, vaultId: null, createdAt: null, slots: [] };
    return {
      initialized: true,
      vaultId: Buffer.from(vault.vaultId).toString("hex"),
      createdAt: vault.createdAt,
      slots: (await store.listSlots()).map(slotInfo),
    };
  }

  /**
   * Unlocks with a passphrase or identities. Failures are recorded (outside the chain, as no
   * key is known) and folded into the audit log at the next successful unlock; repeated
   * failures make each further attempt wait longer.
   */
  static async unlock(deps: VaultDeps, credential: Credential, actor: Actor = { kind: "owner" }): Promise<Vault> {
    const vault = await deps.store.getVault();
    if (!vault) throw new AuthyError("NOT_INITIALIZED", "no vault here yet", { hint: "run `authy init`" });
    const failures = await deps.store.listUnlockFailures();
    const delay = unlockDelayMs(failuresForDelay(vault, await deps.store.unlockFailureCounter(), failures));
    if (delay > 0) await (deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(delay);
    const method = "passphrase" in credential ? "passphrase" : "identity";
    let keys: Keyring;
    try {
      ({ keys } = await openKeys(deps.store, vault, credential));
    } catch (e) {
      if (e instanceof AuthyError && e.code === "LOCKED") {
        await deps.store.recordUnlockFailure(deps.clock.now(), method).catch(() => undefined);
        throw lockedError();
      }
      throw e;
    }
    return Vault.opened(deps, keys, actor);
  }

  /**
   * The first steps with a key: a vault from before fresh rows is migrated, the state is
   * verified, and failed unlocks since the last one are reconciled and audited.
   */
  private static async opened(deps: VaultDeps, keys: Keyring, actor: Actor): Promise<Vault> {
    const store = new FreshStore(deps.store, keys);
    const ctx: VaultContext = { store, unchecked: deps.store, clock: deps.clock, keys, actor, approvals: deps.approvals };
    await adoptState(ctx, store);
    await store.verifyState();
    // The slot that opened the vault must be the current one: an old passphrase slot put back
    // (undoing `authy passwd`) opens with the old passphrase, and is refused here.
    await store.listSlots();
    await reconcileFailures(store, keys, deps.clock.now());
    return new Vault(ctx);
  }

  /**
   * Re-opens a vault from its raw key (the daemon receives it from `authy unlock` over a
   * pipe). The header must verify under it.
   */
  static async fromKey(deps: VaultDeps, vaultKey: Uint8Array, actor: Actor = { kind: "owner" }): Promise<Vault> {
    const vault = await deps.store.getVault();
    if (!vault) throw new AuthyError("NOT_INITIALIZED", "no vault here yet", { hint: "run `authy init`" });
    const keys = new Keyring(vaultKey, vault.vaultId);
    verifyVaultRow(keys, vault);
    return Vault.opened(deps, keys, actor);
  }

  /** The same unlocked vault, acting as someone else (the daemon's per-request principal). */
  as(actor: Actor): Vault {
    return new Vault({ ...this.ctx, actor });
  }

  /** The raw vault key, for handing to a daemon over a private pipe. */
  exportKey(): Uint8Array {
    return Uint8Array.from(this.ctx.keys.vaultKey);
  }

  createAgent(name: string, opts: { scope: string; description?: string }): Promise<{ agent: AgentInfo; key: string }> {
    return agents().then((m) => m.createAgent(this.ctx, name, opts));
  }

  listAgents(): Promise<AgentInfo[]> {
    return agents().then((m) => m.listAgents(this.ctx));
  }

  revokeAgent(name: string): Promise<AgentInfo> {
    return agents().then((m) => m.revokeAgent(this.ctx, name));
  }

  verifyAgentKey(key: string): Promise<AgentKeyCheck> {
    return agents().then((m) => m.verifyAgentKey(this.ctx, key));
  }

  /** Adds a member of a team server (admin only); the key is shown once. */
  addMember(name: string, opts: AddMemberOptions): Promise<{ member: MemberInfo; key: string }> {
    return members().then((m) => m.addMember(this.ctx, name, opts));
  }

  listMembers(): Promise<MemberInfo[]> {
    return members().then((m) => m.listMembers(this.ctx));
  }

  revokeMember(name: string): Promise<MemberInfo> {
    return members().then((m) => m.revokeMember(this.ctx, name));
  }

  /** A new key for the acting member, or (an admin) for the member named. */
  rotateMemberKey(name?: string): Promise<{ member: MemberInfo; key: string }> {
    return members().then((m) => m.rotateMemberKey(this.ctx, name));
  }

  verifyMemberKey(key: string): Promise<MemberKeyCheck> {
    return members().then((m) => m.verifyMemberKey(this.ctx, key));
  }

  resolveScope(spec: string): Promise<Scope> {
    return policies().then((m) => m.resolveScope(this.ctx, spec));
  }

  createToken(opts: CreateTokenOptions): Promise<{ token: TokenInfo; secret: string; notices: string[] }> {
    return tokens().then((m) => m.createToken(this.ctx, opts));
  }

  useToken(presented: string, instance: string, opts?: { spend?: boolean }): Promise<TokenCheck> {
    return tokens().then((m) => m.useToken(this.ctx, presented, instance, opts));
  }

  /** Gives back a use spent by a request that released nothing (src/api spends them). */
  refundUse(tokenId: string): Promise<void> {
    return tokens().then((m) => m.refundUse(this.ctx, tokenId));
  }

  listTokens(instance: string): Promise<TokenInfo[]> {
    return tokens().then((m) => m.listTokens(this.ctx, instance));
  }

  revokeToken(id: string): Promise<TokenInfo> {
    return tokens().then((m) => m.revokeToken(this.ctx, id));
  }

  /** Approval requests, oldest first (owner only). */
  listApprovals(opts?: { status?: string }): Promise<ApprovalInfo[]> {
    return approvals.listApprovals(this.ctx, opts);
  }

  /** One request: the owner sees any, a token only its own (what a waiting agent polls). */
  getApproval(id: string): Promise<ApprovalInfo> {
    return approvals.getApproval(this.ctx, id);
  }

  approve(id: string, opts?: ApproveOptions): Promise<ApprovalInfo> {
    return approvals.approve(this.ctx, id, opts);
  }

  deny(id: string, reason: string): Promise<ApprovalInfo> {
    return approvals.deny(this.ctx, id, reason);
  }

  approveAll(opts?: ApproveOptions): Promise<ApprovalInfo[]> {
    return approvals.approveAll(this.ctx, opts);
  }

  setSecret(path: string, value: Uint8Array, opts?: SetOptions): Promise<SecretMeta> {
    return secrets.setSecret(this.ctx, path, value, opts);
  }

  getSecret(path: string, opts?: secrets.GetOptions): Promise<{ meta: SecretMeta; value: Uint8Array }> {
    return secrets.getSecret(this.ctx, path, opts);
  }

  async describeSecret(path: string): Promise<SecretMeta> {
    await authorize(this.ctx, validatePath(path).path, "list", "secret.describe");
    return secrets.loadMetaAudited(this.ctx, path, "secret.describe");
  }

  /** Names, never values; audited like every other operation. */
  async listSecrets(opts?: secrets.ListOptions): Promise<SecretSummary[]> {
    const items = await secrets.listSecrets(this.ctx, opts);
    await this.ctx.store.write((tx) => audit(tx, this.ctx, "secret.list", opts?.namespace || "vault", { count: items.length }));
    return items;
  }

  /** listSecrets, the paths only: for output that prints nothing else. */
  async listSecretPaths(opts?: secrets.ListOptions): Promise<string[]> {
    const paths = await secrets.listSecretPaths(this.ctx, opts);
    await this.ctx.store.write((tx) => audit(tx, this.ctx, "secret.list", opts?.namespace || "vault", { count: paths.length }));
    return paths;
  }

  deleteSecret(path: string, opts?: secrets.DeleteOptions): Promise<SecretMeta> {
    return secrets.deleteSecret(this.ctx, path, opts);
  }

  restoreSecret(path: string): Promise<SecretMeta> {
    return secrets.restoreSecret(this.ctx, path);
  }

  history(path: string): Promise<{ meta: SecretMeta; versions: VersionInfo[] }> {
    return secrets.secretHistory(this.ctx, path);
  }

  rollback(path: string, version: number, opts?: secrets.RollbackOptions): Promise<SecretMeta> {
    return secrets.rollbackSecret(this.ctx, path, version, opts);
  }

  /** A new random value from the secret's generator (`secrets rotate`); the value only when revealed. */
  rotateSecret(path: string, opts?: RotateOptions): Promise<Rotated> {
    return rotating().then((m) => m.rotateSecret(this.ctx, path, opts));
  }

  /** Renames a secret, history and all (`secrets mv`). */
  moveSecret(from: string, to: string, opts?: MoveOptions): Promise<SecretMeta> {
    return moving().then((m) => m.moveSecret(this.ctx, from, to, opts));
  }

  /** A new secret (or, forced, a new version) holding another's current value and metadata (`secrets cp`). */
  copySecret(from: string, to: string, opts?: MoveOptions): Promise<SecretMeta> {
    return moving().then((m) => m.copySecret(this.ctx, from, to, opts));
  }

  importEnv(entries: readonly EnvEntry[], opts: ImportOptions & { dryRun?: boolean; onProgress?: (done: number, total: number) => void }): Promise<ImportPlan> {
    return importEnv(this.ctx, entries, opts);
  }

  exportEnv(namespace: string, opts?: { keys?: string[]; reason?: string }): Promise<EnvEntry[]> {
    return exportEnv(this.ctx, namespace, opts);
  }

  /**
   * Every secret's current value, for `export --to` or `scan` (audited as one operation,
   * vault.export or vault.scan, before release).
   */
  exportAll(namespace?: string, action: "vault.export" | "vault.scan" = "vault.export"): Promise<{ path: string; value: Uint8Array }[]> {
    return exportAll(this.ctx, namespace, action);
  }

  listKeys(): Promise<SlotInfo[]> {
    return keys.listKeys(this.ctx);
  }

  addRecipient(recipient: string, label?: string): Promise<SlotInfo> {
    return keys.addRecipient(this.ctx, recipient, label);
  }

  /** Removes a slot by id or recipient; the last slot can never be removed. */
  removeKey(idOrRecipient: string): Promise<SlotInfo> {
    return keys.removeKey(this.ctx, idOrRecipient);
  }

  /** Rewraps the vault key under a new passphrase; secrets are untouched. */
  changePassphrase(passphrase: string, workFactor?: number): Promise<SlotInfo> {
    return keys.changePassphrase(this.ctx, passphrase, workFactor);
  }

  /** The owner's settings (notifications, approval expiry), as `authy config list` shows them. */
  settings(): Promise<SettingEntry[]> {
    return listSettings(this.ctx);
  }

  /** Sets one setting (null: back to its default); owner only, audited. */
  setSetting(key: string, value: string | null): Promise<SettingEntry[]> {
    return setSetting(this.ctx, key, value);
  }

  applyPolicy(yamlText: string, source: string): Promise<PolicyDocument> {
    return policies().then((m) => m.applyPolicy(this.ctx, yamlText, source));
  }

  policy(): Promise<PolicyDocument> {
    return policies().then((m) => m.readPolicy(this.ctx));
  }

  testPolicy(scope: string, path: string, capability: Capability): Promise<Decision & { scope: string; sandbox?: ScopeSandbox }> {
    return policies().then((m) => m.testPolicy(this.ctx, scope, path, capability));
  }

  /** Resolves what a process gets and audits `run.start` before returning any value. */
  dispatch(req: DispatchRequest): Promise<Dispatch> {
    return dispatching().then((m) => m.dispatch(this.ctx, req));
  }

  /** Checks every authenticated row and the audit chain (for `doctor`). */
  verify(): Promise<VerifyReport> {
    return verifying().then((m) => m.verifyVault(this.ctx));
  }

  /** Audit entries matching a filter, each verified as it is read (owner only). */
  queryAudit(filter: AuditFilter = {}): Promise<AuditPage> {
    return auditQuery().then((m) => m.queryAudit(this.ctx, filter));
  }

  /** One page of the whole log after `afterSeq`, oldest first, verified as a stretch of the chain. */
  exportAudit(page: { afterSeq: number; limit?: number }): Promise<AuditPage> {
    return auditQuery().then((m) => m.exportAuditPage(this.ctx, page.afterSeq, page.limit));
  }

  /** Recomputes the whole chain and every MAC; with a checkpoint, also catches deleted newest entries. */
  verifyAudit(opts: AuditVerifyOptions = {}): Promise<AuditVerifyReport> {
    return auditVerify().then((m) => m.verifyAudit(this.ctx, opts));
  }

  /** The current head of the audit log, MACed, to keep elsewhere. */
  auditCheckpoint(): Promise<AuditCheckpoint> {
    return auditCheckpoint().then((m) => m.makeCheckpoint(this.ctx));
  }

  /** Records an owner-level event that is not a secret operation (backup, restore, export). */
  recordEvent(action: string, resource: string, details?: Record<string, unknown>): Promise<void> {
    return recordEvent(this.ctx, action, resource, details);
  }

  /** Records how a run ended, with the ticket its dispatch gave (any caller: the ticket is the proof). */
  endRun(ticket: string, end: RunEnd, firstEnd?: (run: string) => boolean): Promise<{ run: string }> {
    return endRun(this.ctx, ticket, end, firstEnd);
  }

  /**
   * Writes down a refusal of someone who is not an authenticated principal (a bad credential,
   * a route not for its kind): the daemon's own vault (the owner) writes it, naming `who`.
   */
  recordRefusal(who: string, action: string, resource: string, details: Record<string, unknown>): Promise<void> {
    return auditRefusedCredential(this.ctx, who, action, resource, details);
  }

  get actorName(): string {
    return actorName(this.ctx.actor);
  }

  /** Drops the keys from memory; the object is unusable afterwards. */
  lock(): void {
    this.ctx.keys.wipe();
  }

  /** Locks and closes the store this vault was opened on. */
  async close(): Promise<void> {
    this.lock();
    await this.ctx.store.close();
  }
}
