/**
 * The storage interface of the reference server. Every method is async so a
 * networked database (Postgres) can stand behind it as well as the embedded
 * SQLite default. Times are milliseconds since the epoch and are passed in by
 * the server, so a store never reads a clock of its own.
 *
 * @module
 */

/** What the server records when an install completes its handshake. */
export interface InstallRecord {
  /** The plugin the install belongs to. */
  pluginId: string;
  /** The install's user hash (64 lowercase hex characters). */
  userHash: string;
  /** The plugin version reported at handshake. */
  version: string;
  /** The device fingerprint (64 lowercase hex characters). */
  deviceFingerprint: string;
  /** The host application's name, such as `exteraGram`. */
  clientName: string;
  /** The host application's version. */
  clientVersion: string;
  /** The SHA-256 of the issued install token, as lowercase hex; the token itself is never stored. */
  tokenHash: string;
  /** When the issued token stops being accepted, in milliseconds. */
  tokenExpiresAt: number;
  /** The server's current time, in milliseconds; becomes `first_seen` for a new install. */
  now: number;
}

/** An install token as found by its hash. */
export interface InstallTokenRecord {
  /** The plugin the token was issued for. */
  pluginId: string;
  /** The user hash the token was issued for. */
  userHash: string;
  /** When the token stops being accepted, in milliseconds. */
  expiresAt: number;
  /** Whether the install has sent at least one ping (`/data`). */
  hasPinged: boolean;
}

/** A daily-active ping. */
export interface PingRecord {
  /** The plugin that pinged. */
  pluginId: string;
  /** The install's user hash. */
  userHash: string;
  /** The plugin version reported with the ping. */
  version: string;
  /** The UTC day of the ping, `YYYY-MM-DD`. */
  day: string;
  /** The server's current time, in milliseconds. */
  now: number;
}

/** Occurrences of one event to add to its daily counter. */
export interface EventCountRecord {
  /** The plugin that sent the event. */
  pluginId: string;
  /** The plugin version reported with the event. */
  version: string;
  /** The event name. */
  event: string;
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  /** How many occurrences to add. */
  count: number;
}

/** Daily actives of one day. */
export interface DailyActiveCount {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  /** How many distinct installs pinged that day. */
  count: number;
}

/** The total of one event for one plugin version. */
export interface EventTotal {
  /** The event name. */
  event: string;
  /** The plugin version. */
  version: string;
  /** The sum of all counts. */
  count: number;
}

/** Aggregates of one plugin, as `GET /api/v1/stats/:plugin_id` returns them. */
export interface PluginStats {
  /** The plugin. */
  plugin_id: string;
  /** How many distinct installs (plugin and user hash) completed a handshake. */
  installs: number;
  /** Distinct pinging installs per day, oldest day first. */
  daily_actives: DailyActiveCount[];
  /** Event totals per event and version, by event then version. */
  events: EventTotal[];
}

/**
 * Names one Honch upload: capture reassembles frames and recognises a retried
 * message by project, stream, source type and message id together.
 */
export interface HonchUploadKey {
  /** The SHA-256 of the project key, as lowercase hex; the key itself is never stored. */
  projectKeyHash: string;
  /** The `X-Honch-Stream-Id` header, or `""` for a single-frame upload without one. */
  streamId: string;
  /** The frame's source type: 0 events, 1 coredump. */
  sourceType: number;
  /** The frame's message id. */
  messageId: number;
}

/** One frame of a multi-frame upload, as handed to {@linkcode ServerStore.appendHonchFrame}. */
export interface HonchFrameRecord {
  /** Where the payload starts within the complete message, in bytes; 0 for the init frame. */
  offset: number;
  /** The frame's payload, without header or CRC. */
  payload: Uint8Array;
  /**
   * The complete message's length as the init frame declares it; only an
   * init frame carries it, and only an init frame may open a partial upload.
   */
  totalLength?: number;
  /**
   * Whether this is the final frame. A final frame is never stored: when it
   * completes the message, the store answers the assembled bytes instead.
   */
  final: boolean;
  /** The server's current time, in milliseconds; partials that expired by then are gone. */
  now: number;
  /** When a partial upload opened by this frame expires, in milliseconds. */
  expiresAt: number;
}

/**
 * What became of a frame handed to {@linkcode ServerStore.appendHonchFrame}.
 * `stored`: appended, `received` bytes are now held; `duplicate`: the same
 * bytes were already held at that offset, nothing changed; `assembled`: the
 * final frame completes the message, whose bytes are in `message` (the
 * partial stays until {@linkcode ServerStore.completeHonchMessage} or
 * {@linkcode ServerStore.discardHonchPartial}); `unknown`: no live partial
 * upload to continue; `conflict`: other bytes, or another total length, are
 * held at that offset; `gap`: the frame does not start at `expected`;
 * `overflow`: the frame runs past the declared total length, or a non-final
 * frame reaches it, or a final frame falls short of it.
 */
export type HonchAppendResult =
  | { status: "stored"; received: number }
  | { status: "duplicate"; received: number }
  | { status: "assembled"; message: Uint8Array }
  | { status: "unknown" }
  | { status: "conflict" }
  | { status: "gap"; expected: number }
  | { status: "overflow" };

/** A Honch event expanded into the canonical event model, as capture stores it. */
export interface HonchEventRecord {
  /** The event name. */
  event: string;
  /** Whom the event is about. */
  distinct_id: string;
  /** When the event happened, in milliseconds since the epoch. */
  timestamp: number;
  /** The promoted context properties, then the event's own. */
  properties: Record<string, unknown>;
}

/** A complete, CRC-checked message handed to {@linkcode ServerStore.completeHonchMessage}. */
export interface HonchCompletion {
  /** The SHA-256 of the complete message bytes, as lowercase hex, to recognise a retry. */
  digest: string;
  /** The expanded events to store; empty for a coredump. */
  events: HonchEventRecord[];
  /** The raw bytes to keep, for a source that is not decoded (coredumps). */
  blob?: Uint8Array;
  /** The server's current time, in milliseconds. */
  now: number;
  /** When the marker that recognises a retry of this message may be dropped, in milliseconds. */
  expiresAt: number;
}

/**
 * What {@linkcode ServerStore.completeHonchMessage} did: `stored` the events
 * (or blob); found the same bytes already stored under the key
 * (`duplicate`, nothing written); or found other bytes stored under the key
 * (`collision`, nothing written).
 */
export type HonchCompletionResult = "stored" | "duplicate" | "collision";

/** A coredump (or other undecoded) blob as capture kept it. */
export interface HonchBlobRecord {
  /** The upload the blob came in. */
  key: HonchUploadKey;
  /** The complete blob. */
  bytes: Uint8Array;
  /** When it was received, in milliseconds. */
  receivedAt: number;
}

/** A project registered with the migas server, with the version facts it answers. */
export interface MigasProjectRecord {
  /** The project, as `owner/repo`. */
  project: string;
  /** The newest released version, or `undefined` when unknown. */
  latestVersion: string | undefined;
  /** Versions flagged as bad, which `check_project` reports as `flagged`. */
  badVersions: string[];
}

/** What a migas registration changes; an `undefined` field keeps the stored value. */
export interface MigasRegistration {
  /** The project, as `owner/repo`. */
  project: string;
  /** The newest released version; `undefined` keeps the stored one. */
  latestVersion?: string;
  /** Versions flagged as bad; `undefined` keeps the stored list. */
  badVersions?: string[];
  /** The server's current time, in milliseconds. */
  now: number;
}

/** One migas usage breadcrumb, with versions already sanitised. */
export interface MigasBreadcrumbRecord {
  /** The project, as `owner/repo`. */
  project: string;
  /** The project's version, or `unknown`. */
  projectVersion: string;
  /** The client's programming language. */
  language: string;
  /** The language's version, or `unknown`. */
  languageVersion: string;
  /** When the server received it, in milliseconds. */
  timestamp: number;
  /** The telemetry session, when the client sent one. */
  sessionId: string | undefined;
  /** The client's stable identifier, when sent. */
  userId: string | undefined;
  /** `general`, `dev` or `ci`. */
  userType: string;
  /** The client's platform, such as `linux`. */
  platform: string;
  /** `unknown`, `docker` or `apptainer`. */
  container: string;
  /** Whether the client runs under continuous integration. */
  isCi: boolean;
  /** `R`, `C`, `F` or `S`. */
  status: string;
  /** A description of the status. */
  statusDesc: string | undefined;
  /** The type of error encountered. */
  errorType: string | undefined;
  /** A description of the error. */
  errorDesc: string | undefined;
}

/** Which breadcrumbs {@linkcode ServerStore.countMigasUsage} counts. */
export interface MigasUsageQuery {
  /** The project, as `owner/repo`. */
  project: string;
  /** The earliest timestamp counted, inclusive, in milliseconds. */
  start: number;
  /** The latest timestamp counted, inclusive, in milliseconds. */
  end: number;
  /** Count distinct user ids instead of breadcrumbs. */
  unique: boolean;
}

/**
 * Where the reference server keeps its state. Implementations must be safe to
 * call concurrently from many requests.
 *
 * @example Open the embedded default
 * ```ts
 * import { SqliteStore, type ServerStore } from "@edgewire/sdk/server";
 *
 * const store: ServerStore = new SqliteStore(":memory:");
 * await store.setMeta("greeting", "hello");
 * console.log(await store.getMeta("greeting")); // "hello"
 * await store.close();
 * ```
 */
export interface ServerStore {
  /**
   * Reads a server setting.
   *
   * @param key The setting's name.
   * @returns Its value, or `undefined` when unset.
   */
  getMeta(key: string): Promise<string | undefined>;
  /**
   * Writes a server setting, replacing any previous value.
   *
   * @param key The setting's name.
   * @param value Its new value.
   */
  setMeta(key: string, value: string): Promise<void>;
  /**
   * Writes a server setting unless it already has a value, atomically, so
   * two servers starting together agree on one generated secret.
   *
   * @param key The setting's name.
   * @param value The value to store when the key is unset.
   * @returns The value stored afterwards: `value`, or the one already there.
   */
  ensureMeta(key: string, value: string): Promise<string>;
  /**
   * Marks a proof-of-work challenge as spent, so it cannot be replayed, even
   * after a restart.
   *
   * @param id The challenge's identifier.
   * @param expiresAt When the challenge expires, in milliseconds; the mark may be dropped after it.
   * @returns `true` on first use, `false` when the challenge was already spent.
   */
  markChallengeUsed(id: string, expiresAt: number): Promise<boolean>;
  /**
   * Records a completed handshake: creates or refreshes the install and stores
   * the hash of its new token. Earlier tokens stay valid until they expire.
   *
   * @param install The install and its token hash.
   */
  recordInstall(install: InstallRecord): Promise<void>;
  /**
   * Finds an install token by its hash.
   *
   * @param tokenHash The SHA-256 of the token, as lowercase hex.
   * @returns The token's install and expiry, or `undefined` when unknown.
   */
  findInstallToken(tokenHash: string): Promise<InstallTokenRecord | undefined>;
  /**
   * Records a daily-active ping; a second ping on the same day by the same
   * install counts once.
   *
   * @param ping The ping.
   */
  recordPing(ping: PingRecord): Promise<void>;
  /**
   * Adds occurrences to an event's daily counter.
   *
   * @param event The event and how many occurrences to add.
   */
  addEventCount(event: EventCountRecord): Promise<void>;
  /**
   * Aggregates one plugin's installs, daily actives and events.
   *
   * @param pluginId The plugin.
   * @returns The aggregates; zeros and empty lists for an unknown plugin.
   */
  getStats(pluginId: string): Promise<PluginStats>;
  /**
   * Adds one frame of a multi-frame Honch upload to its partial message,
   * atomically, so concurrent or repeated frames never append twice. The
   * partial is kept durably, so an upload survives a restart.
   *
   * @param key The upload.
   * @param frame The frame's offset, payload and role.
   * @returns What became of the frame.
   */
  appendHonchFrame(key: HonchUploadKey, frame: HonchFrameRecord): Promise<HonchAppendResult>;
  /**
   * Drops a partial upload, such as one whose CRC failed.
   *
   * @param key The upload.
   */
  discardHonchPartial(key: HonchUploadKey): Promise<void>;
  /**
   * Stores a complete Honch message's events (or blob) and drops its
   * partial, atomically; a retry of a message already stored under the same
   * key stores nothing.
   *
   * @param key The upload.
   * @param completion The message digest, its events or blob, and times.
   * @returns Whether it was stored, a duplicate, or a collision.
   */
  completeHonchMessage(
    key: HonchUploadKey,
    completion: HonchCompletion,
  ): Promise<HonchCompletionResult>;
  /**
   * Stores expanded events that did not come in frames (the JSON ingest path).
   *
   * @param projectKeyHash The SHA-256 of the project key, as lowercase hex.
   * @param events The events, in order.
   * @param now The server's current time, in milliseconds.
   */
  addHonchEvents(projectKeyHash: string, events: HonchEventRecord[], now: number): Promise<void>;
  /**
   * Reads the newest stored events of a project.
   *
   * @param projectKeyHash The SHA-256 of the project key, as lowercase hex.
   * @param limit How many events at most.
   * @returns Up to `limit` events, oldest first (the newest last).
   */
  listHonchEvents(projectKeyHash: string, limit: number): Promise<HonchEventRecord[]>;
  /**
   * Reads the blobs (coredumps) of a project.
   *
   * @param projectKeyHash The SHA-256 of the project key, as lowercase hex.
   * @param limit How many blobs at most.
   * @returns Up to `limit` blobs, the newest last.
   */
  listHonchBlobs(projectKeyHash: string, limit: number): Promise<HonchBlobRecord[]>;
  /**
   * Registers a migas project, or updates the version facts of a registered one.
   *
   * @param registration The project and the facts to set.
   * @returns `true` when the project was new, `false` when it was already registered.
   */
  registerMigasProject(registration: MigasRegistration): Promise<boolean>;
  /**
   * Finds a registered migas project.
   *
   * @param project The project, as `owner/repo`.
   * @returns Its record, or `undefined` when it is not registered.
   */
  findMigasProject(project: string): Promise<MigasProjectRecord | undefined>;
  /**
   * Lists the registered migas projects.
   *
   * @returns Their names, sorted.
   */
  listMigasProjects(): Promise<string[]>;
  /**
   * Stores one migas breadcrumb.
   *
   * @param breadcrumb The breadcrumb.
   */
  addMigasBreadcrumb(breadcrumb: MigasBreadcrumbRecord): Promise<void>;
  /**
   * Counts a project's breadcrumbs, or its distinct users, over a time range.
   *
   * @param query The project, the inclusive range and whether to count users.
   * @returns The count.
   */
  countMigasUsage(query: MigasUsageQuery): Promise<number>;
  /**
   * Deletes spent challenges and install tokens that have expired, and Honch
   * partial uploads and retry markers past their expiry.
   *
   * @param now The server's current time, in milliseconds.
   */
  prune(now: number): Promise<void>;
  /** Releases the store. Calling it again does nothing. */
  close(): Promise<void>;
}
