import type {
  AgentRow,
  ApprovalQuery,
  ApprovalRow,
  AuditChainRow,
  AuditQuery,
  AuditRow,
  CurrentRows,
  KeySlotRow,
  MemberRow,
  PolicyRow,
  SecretRow,
  SettingsRow,
  StateBucket,
  StateDigestRow,
  StateAt,
  StateTextsAt,
  StateRow,
  Store,
  StoreReader,
  StoreWriter,
  TokenRow,
  UnlockFailureRow,
  VaultRow,
  VersionRow,
} from "../store/store.js";
import type { Keyring } from "./keyring.js";
import {
  bucketName,
  bucketText,
  digestBucket,
  macState,
  parseBucketName,
  pathBucket,
  readBucketText,
  secretRowBucket,
  shardBucket,
  verifyBucket,
  verifyState,
} from "./state-digest.js";

/**
 * The store as the core sees it once a vault is unlocked: the same port, with every read of a
 * row that decides access or holds a value checked for freshness (state-digest.ts), and every
 * write sealing the new state in its own transaction. The rest of the core needs no change to
 * be fresh, and the Store port gains no method for it beyond reading and writing digests.
 */
abstract class FreshReader implements StoreReader {
  constructor(
    protected readonly inner: StoreReader,
    protected readonly keys: Keyring,
  ) {}

  /** INTEGRITY unless each bucket is as the vault state says. */
  protected abstract check(buckets: readonly StateBucket[]): Promise<void>;

  /**
   * Every bucket of a table (or of one namespace of secrets): those with a stored digest, and
   * those the rows just read are in.
   */
  protected async checkTable(table: StateBucket["table"], rowBuckets: readonly StateBucket[], namespace?: string): Promise<void> {
    const names = new Map<string, StateBucket>();
    for (const d of await this.inner.listStateDigests()) {
      const b = parseBucketName(d.bucket);
      if (b?.table === table && (namespace === undefined || (b.table === "secrets" && b.namespace === namespace))) names.set(d.bucket, b);
    }
    for (const b of rowBuckets) names.set(bucketName(b), b);
    await this.check([...names.values()]);
  }

  private async checked<T>(value: T, buckets: readonly StateBucket[]): Promise<T> {
    await this.check(buckets);
    return value;
  }

  getVault(): Promise<VaultRow | null> {
    return this.inner.getVault();
  }
  async listSlots(): Promise<KeySlotRow[]> {
    return this.checked(await this.inner.listSlots(), [{ table: "slots" }]);
  }
  async getSecret(path: string): Promise<SecretRow | null> {
    return this.checked(await this.inner.getSecret(path), [pathBucket(path)]);
  }
  async listSecrets(): Promise<SecretRow[]> {
    const rows = await this.inner.listSecrets();
    await this.checkTable("secrets", rows.map(secretRowBucket));
    return rows;
  }
  async listSecretsIn(namespace: string): Promise<SecretRow[]> {
    const rows = await this.inner.listSecretsIn(namespace);
    await this.checkTable("secrets", rows.map(secretRowBucket), namespace);
    return rows;
  }
  /** Authenticated by the listing MAC in the vault row, which every write of a secret updates. */
  listingText(): Promise<string> {
    return this.inner.listingText();
  }
  /** Fresh through the secret row the core reads first (checkVersionFresh in secret-rows.ts). */
  getVersion(path: string, version: number): Promise<VersionRow | null> {
    return this.inner.getVersion(path, version);
  }
  async readCurrent(paths: readonly string[]): Promise<CurrentRows[]> {
    const rows = await this.inner.readCurrent(paths);
    const buckets = new Map<string, StateBucket>();
    for (const p of paths) {
      const bucket = pathBucket(p);
      buckets.set(bucketName(bucket), bucket);
    }
    return this.checked(rows, [...buckets.values()]);
  }
  async readCurrentIn(namespace: string): Promise<CurrentRows[]> {
    const rows = await this.inner.readCurrentIn(namespace);
    await this.checkTable(
      "secrets",
      rows.map((r) => secretRowBucket(r.secret)),
      namespace,
    );
    return rows;
  }
  listVersions(path: string): Promise<VersionRow[]> {
    return this.inner.listVersions(path);
  }
  /** Only the full check reads it, through the unchecked store; orphans are its findings. */
  listVersionPaths(): Promise<{ path: string; versions: number }[]> {
    return this.inner.listVersionPaths();
  }
  /** The audit log is a MACed hash chain of its own (audit-chain.ts). */
  auditHead(): Promise<AuditRow | null> {
    return this.inner.auditHead();
  }
  listAudit(query: AuditQuery): Promise<AuditRow[]> {
    return this.inner.listAudit(query);
  }
  listAuditChain(afterSeq: number, limit: number): Promise<AuditChainRow[]> {
    return this.inner.listAuditChain(afterSeq, limit);
  }
  /** Reconciled against the unlock mark at each unlock (unlock-failures.ts). */
  listUnlockFailures(): Promise<UnlockFailureRow[]> {
    return this.inner.listUnlockFailures();
  }
  unlockFailureCounter(): Promise<number> {
    return this.inner.unlockFailureCounter();
  }
  stateRows(bucket: StateBucket): Promise<StateRow[]> {
    return this.inner.stateRows(bucket);
  }
  listStateDigests(): Promise<StateDigestRow[]> {
    return this.inner.listStateDigests();
  }
  async getPolicy(): Promise<PolicyRow | null> {
    return this.checked(await this.inner.getPolicy(), [{ table: "policy" }]);
  }
  async getSettings(): Promise<SettingsRow | null> {
    return this.checked(await this.inner.getSettings(), [{ table: "settings" }]);
  }
  async getAgent(name: string): Promise<AgentRow | null> {
    return this.checked(await this.inner.getAgent(name), [{ table: "agents" }]);
  }
  async getAgentById(id: string): Promise<AgentRow | null> {
    return this.checked(await this.inner.getAgentById(id), [{ table: "agents" }]);
  }
  async listAgents(): Promise<AgentRow[]> {
    return this.checked(await this.inner.listAgents(), [{ table: "agents" }]);
  }
  async getMember(name: string): Promise<MemberRow | null> {
    return this.checked(await this.inner.getMember(name), [{ table: "members" }]);
  }
  async getMemberById(id: string): Promise<MemberRow | null> {
    return this.checked(await this.inner.getMemberById(id), [{ table: "members" }]);
  }
  async listMembers(): Promise<MemberRow[]> {
    return this.checked(await this.inner.listMembers(), [{ table: "members" }]);
  }
  async getToken(id: string): Promise<TokenRow | null> {
    return this.checked(await this.inner.getToken(id), [shardBucket("tokens", id)]);
  }
  async listTokens(): Promise<TokenRow[]> {
    const rows = await this.inner.listTokens();
    await this.checkTable(
      "tokens",
      rows.map((r) => shardBucket("tokens", r.id)),
    );
    return rows;
  }
  async getApproval(id: string): Promise<ApprovalRow | null> {
    return this.checked(await this.inner.getApproval(id), [shardBucket("approvals", id)]);
  }
  async listApprovals(query?: ApprovalQuery): Promise<ApprovalRow[]> {
    const rows = await this.inner.listApprovals(query);
    await this.checkTable(
      "approvals",
      rows.map((r) => shardBucket("approvals", r.id)),
    );
    return rows;
  }
}

const digestMap = (rows: readonly StateDigestRow[]) => new Map(rows.map((d) => [d.bucket, d.digest]));

/**
 * A read outside a transaction takes the vault row, the digests and the bucket texts in
 * separate statements; a write committed by another connection in between is read again,
 * not reported as tampering (the state MAC changes with every write that changes a bucket).
 */
const STATE_READ_ATTEMPTS = 5;

/** How a write treats the state it starts from. */
type StateMode =
  /** Every bucket it touches must match the vault state first (every write but the two below). */
  | "verify"
  /** `init`: there is no state yet. */
  | "create"
  /** The one-time migration of a format-1 vault: every bucket is digested as it is. */
  | "adopt";

/**
 * What a read outside a transaction verified, kept while the store's change token says that
 * the vault row was not written since (Store.changeToken): the stored
 * digests, checked against the state MAC once, and each bucket text found to match its
 * digest. A read of a bucket still reads its text every time; only an unchanged text skips
 * the digest, and only an unchanged state skips the state MAC. So a row put back, by SQLite
 * or by writing the file, is compared with the digests the state MAC vouched for, and
 * refused, warm or cold; the state itself is read and verified again after any commit.
 */
interface VerifiedState {
  token: string;
  digests: ReadonlyMap<string, Uint8Array>;
  texts: Map<string, string>;
}

export class FreshStore extends FreshReader implements Store {
  readonly kind: string;
  private verified: VerifiedState | null = null;

  constructor(
    private readonly store: Store,
    keys: Keyring,
  ) {
    super(store, keys);
    this.kind = store.kind;
  }

  protected async check(buckets: readonly StateBucket[]): Promise<void> {
    if (buckets.length === 0) return;
    if (this.verified && (await this.checkWarm(this.verified, buckets))) return;
    // Taken before the state is read: a commit from here on makes it differ next time.
    const token = (await this.store.changeToken?.()) ?? null;
    for (let attempt = 1; ; attempt++) {
      const before = await this.store.getVault();
      const digests = await this.store.listStateDigests();
      const texts = await this.bucketTexts(buckets);
      const after = await this.store.getVault();
      const settled = before?.stateMac != null && after?.stateMac != null && Buffer.from(before.stateMac).equals(after.stateMac);
      if (settled || attempt >= STATE_READ_ATTEMPTS) {
        verifyState(this.keys, after, digests);
        const map = digestMap(digests);
        buckets.forEach((b, i) => verifyBucket(this.keys, b, texts[i]!, map));
        this.verified = token === null ? null : { token, digests: map, texts: new Map(buckets.map((b, i) => [bucketName(b), texts[i]!])) };
        return;
      }
    }
  }

  /**
   * The check against the state verified earlier: true when it holds, false when the state
   * may have changed since (then the full check runs). Throws INTEGRITY for a bucket whose
   * text does not match its digest in that state.
   */
  private async checkWarm(state: VerifiedState, buckets: readonly StateBucket[]): Promise<boolean> {
    // The texts and the token as of one moment: the same reasoning as below, one round trip.
    if (this.store.stateTextsAt) return this.textsHoldAt(state, buckets, await this.store.stateTextsAt(buckets));
    if (this.store.stateRowsAt) return this.holdsAt(state, buckets, await this.store.stateRowsAt(buckets));
    const texts = await Promise.all(buckets.map((b) => readBucketText(this.store, b)));
    // After the texts: the same token means the vault row was not written since the state was
    // verified, and every write that changes a bucket writes it, so the texts are that state's.
    if ((await this.store.changeToken?.()) !== state.token || this.verified !== state) return false;
    this.verifyTexts(state, buckets, texts);
    return true;
  }

  /** checkWarm with the buckets' state as of one moment already read (Store.stateRowsAt and the *At reads). */
  private holdsAt(state: VerifiedState, buckets: readonly StateBucket[], at: StateAt): boolean {
    return this.textsHoldAt(state, buckets, { token: at.token, texts: buckets.map((b, i) => bucketText(b, at.rows[i]!)) });
  }

  /** holdsAt with the texts joined by the store (Store.stateTextsAt). */
  private textsHoldAt(state: VerifiedState, buckets: readonly StateBucket[], at: StateTextsAt): boolean {
    if (at.token === null || at.token !== state.token || this.verified !== state) return false;
    this.verifyTexts(state, buckets, at.texts);
    return true;
  }

  /** The buckets' current texts: joined by the store where it can (Store.stateTextsAt), else here. */
  private async bucketTexts(buckets: readonly StateBucket[]): Promise<string[]> {
    if (this.store.stateTextsAt) return (await this.store.stateTextsAt(buckets)).texts;
    return Promise.all(buckets.map((b) => readBucketText(this.store, b)));
  }

  /** INTEGRITY for a bucket text that does not match its digest in the verified state. */
  private verifyTexts(state: VerifiedState, buckets: readonly StateBucket[], texts: readonly string[]): void {
    buckets.forEach((b, i) => {
      const name = bucketName(b);
      if (state.texts.get(name) === texts[i]) return;
      verifyBucket(this.keys, b, texts[i]!, state.digests);
      state.texts.set(name, texts[i]!);
    });
  }

  /**
   * A warm vault reads a token, or one secret, and checks its bucket in one statement where the
   * store can (Store.getTokenAt, readCurrentAt); when the state changed since it was verified,
   * the read is done again and fully checked, as any other.
   */
  override async getToken(id: string): Promise<TokenRow | null> {
    const state = this.verified;
    if (state && this.store.getTokenAt) {
      const bucket = shardBucket("tokens", id);
      const { value, at } = await this.store.getTokenAt(id, bucket);
      if (this.holdsAt(state, [bucket], at)) return value;
    }
    return super.getToken(id);
  }

  override async readCurrent(paths: readonly string[]): Promise<CurrentRows[]> {
    const state = this.verified;
    if (state && this.store.readCurrentAt && paths.length === 1) {
      const bucket = pathBucket(paths[0]!);
      const { value, at } = await this.store.readCurrentAt(paths[0]!, bucket);
      if (this.holdsAt(state, [bucket], at)) return value;
    }
    return super.readCurrent(paths);
  }

  /** The digests and unlock mark are the ones the vault last wrote (what an unlock checks). */
  async verifyState(): Promise<VaultRow> {
    for (let attempt = 1; ; attempt++) {
      const before = await this.store.getVault();
      const digests = await this.store.listStateDigests();
      const after = await this.store.getVault();
      const settled = before?.stateMac != null && after?.stateMac != null && Buffer.from(before.stateMac).equals(after.stateMac);
      if (settled || attempt >= STATE_READ_ATTEMPTS) {
        verifyState(this.keys, after, digests);
        return after!;
      }
    }
  }

  write<T>(fn: (tx: StoreWriter) => Promise<T>): Promise<T> {
    return this.writeState("verify", fn);
  }

  /** write() with the state handled as `mode` says, and the transaction's own controls. */
  writeState<T>(mode: StateMode, fn: (tx: FreshWriter) => Promise<T>): Promise<T> {
    return this.store.write(async (tx) => {
      const w = new FreshWriter(tx, this.keys, mode);
      const value = await fn(w);
      await w.seal();
      return value;
    });
  }

  recordUnlockFailure(ts: number, method: string): Promise<void> {
    return this.store.recordUnlockFailure(ts, method);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/**
 * The writes of one transaction. Before a bucket is first changed, it is checked against the
 * state the transaction started from (or an edit by hand would be laundered into the new
 * digest); at the end, the changed buckets are digested again and the state MAC rewritten.
 */
class FreshWriter extends FreshReader implements StoreWriter {
  private start: { vault: VaultRow | null; digests: Map<string, Uint8Array> } | null = null;
  /** Buckets checked in this transaction, and not changed since. */
  private readonly clean = new Set<string>();
  /** Buckets changed in this transaction: digested again by seal(). */
  private readonly dirty = new Map<string, StateBucket>();
  private mark: number | undefined;

  constructor(
    private readonly tx: StoreWriter,
    keys: Keyring,
    private readonly mode: StateMode,
  ) {
    super(tx, keys);
  }

  /** The vault row and digests this transaction started from, verified (once). */
  async startState(): Promise<VaultRow> {
    if (!this.start) {
      const vault = await this.tx.getVault();
      const digests = await this.tx.listStateDigests();
      if (this.mode === "verify") verifyState(this.keys, vault, digests);
      this.start = { vault, digests: digestMap(digests) };
    }
    return this.start.vault!;
  }

  protected async check(buckets: readonly StateBucket[]): Promise<void> {
    if (this.mode !== "verify") return;
    for (const b of buckets) {
      const name = bucketName(b);
      if (this.clean.has(name) || this.dirty.has(name)) continue;
      await this.startState();
      verifyBucket(this.keys, b, await readBucketText(this.tx, b), this.start!.digests);
      this.clean.add(name);
    }
  }

  private async touch(...buckets: StateBucket[]): Promise<void> {
    await this.check(buckets);
    for (const b of buckets) {
      const name = bucketName(b);
      this.clean.delete(name);
      this.dirty.set(name, b);
    }
  }

  /** Marks a bucket to be digested by seal() whether or not this transaction changes it (adoption). */
  async include(b: StateBucket): Promise<void> {
    await this.touch(b);
  }

  /** Sets the unlock mark that seal() writes (unlock-failures.ts). */
  setUnlockMark(mark: number): void {
    this.mark = mark;
  }

  /** Digests the changed buckets and MACs the new state. No-op for a write that changed none. */
  async seal(): Promise<void> {
    if (this.dirty.size === 0 && this.mark === undefined && this.mode === "verify") return;
    const vault = (await this.startState()) as VaultRow | null; // no row yet when this write creates the vault
    for (const [name, b] of this.dirty) {
      const text = await readBucketText(this.tx, b);
      await this.tx.putStateDigest(name, text === "" ? null : digestBucket(this.keys, name, text));
    }
    const mark = this.mark ?? vault?.unlockMark ?? 0;
    await this.tx.setState(macState(this.keys, mark, await this.tx.listStateDigests()), mark);
  }

  putVault(row: VaultRow): Promise<void> {
    return this.tx.putVault(row);
  }
  setListingMac(mac: Uint8Array): Promise<void> {
    return this.tx.setListingMac(mac);
  }
  setState(stateMac: Uint8Array, unlockMark: number): Promise<void> {
    return this.tx.setState(stateMac, unlockMark);
  }
  putStateDigest(bucket: string, digest: Uint8Array | null): Promise<void> {
    return this.tx.putStateDigest(bucket, digest);
  }
  async putSlot(row: KeySlotRow): Promise<void> {
    await this.touch({ table: "slots" });
    await this.tx.putSlot(row);
  }
  async deleteSlot(id: string): Promise<void> {
    await this.touch({ table: "slots" });
    await this.tx.deleteSlot(id);
  }
  async putSecret(row: SecretRow): Promise<void> {
    await this.putSecrets([row]);
  }
  async putSecrets(rows: readonly SecretRow[]): Promise<void> {
    await this.touch(...distinct(rows.map(secretRowBucket)));
    await this.tx.putSecrets(rows);
  }
  async deleteSecret(path: string): Promise<void> {
    await this.touch(pathBucket(path));
    await this.tx.deleteSecret(path);
  }
  putVersion(row: VersionRow): Promise<void> {
    return this.tx.putVersion(row);
  }
  putVersions(rows: readonly VersionRow[]): Promise<void> {
    return this.tx.putVersions(rows);
  }
  appendAudit(row: AuditRow): Promise<void> {
    return this.tx.appendAudit(row);
  }
  clearUnlockFailures(ids: number[]): Promise<void> {
    return this.tx.clearUnlockFailures(ids);
  }
  async putPolicy(row: PolicyRow): Promise<void> {
    await this.touch({ table: "policy" });
    await this.tx.putPolicy(row);
  }
  async putSettings(row: SettingsRow): Promise<void> {
    await this.touch({ table: "settings" });
    await this.tx.putSettings(row);
  }
  async putAgent(row: AgentRow): Promise<void> {
    await this.touch({ table: "agents" });
    await this.tx.putAgent(row);
  }
  async putMember(row: MemberRow): Promise<void> {
    await this.touch({ table: "members" });
    await this.tx.putMember(row);
  }
  async putToken(row: TokenRow): Promise<void> {
    await this.touch(shardBucket("tokens", row.id));
    await this.tx.putToken(row);
  }
  async putApproval(row: ApprovalRow): Promise<void> {
    await this.touch(shardBucket("approvals", row.id));
    await this.tx.putApproval(row);
  }
}

function distinct(buckets: readonly StateBucket[]): StateBucket[] {
  const out = new Map<string, StateBucket>();
  for (const b of buckets) out.set(bucketName(b), b);
  return [...out.values()];
}
