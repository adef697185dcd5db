/**
 * What every migas request says about the run: the environment (gathered
 * once), the user id (the caller's, or a random one kept in storage) and the
 * session id. Read lazily, so an opted-out process reads and writes nothing.
 *
 * @module
 */

import { fileExists } from "../core/runtime/mod.ts";
import { getOrCreate } from "../core/storage/keyed.ts";
import { gatherEnvironment, type MigasEnvironment } from "./environment.ts";
import type { MigasSettings } from "./_settings.ts";

const USER_ID_KEY = "migas:user_id";

/** The environment, user and session of one client, each resolved once. */
export class RunContext {
  readonly #settings: MigasSettings;
  #environment: Promise<MigasEnvironment> | undefined;
  #userId: Promise<string> | undefined;
  #sessionId: string | undefined;

  /** @param settings The client's settings. */
  constructor(settings: MigasSettings) {
    this.#settings = settings;
  }

  /** The environment, detected once and overridden by the `environment` option. */
  environment(): Promise<MigasEnvironment> {
    const { env, options } = this.#settings;
    this.#environment ??= gatherEnvironment({
      env,
      fileExists: options.fileExists ?? ((path: string) => fileExists(path)),
      userType: options.userType,
      overrides: options.environment,
    });
    return this.#environment;
  }

  /** The user id: the caller's, else kept in storage, else one for this process. */
  user(): Promise<string> {
    this.#userId ??= (async () => {
      const { options, storage, randomUUID, log } = this.#settings;
      if (options.userId !== undefined) return options.userId;
      return await getOrCreate(storage, USER_ID_KEY, randomUUID).catch((error) => {
        // Without storage the id is stable for this process only, which is still useful
        log("DEBUG", `Cannot keep the migas user id: ${String(error)}`);
        return randomUUID();
      });
    })();
    return this.#userId;
  }

  /** The session id, the same for every breadcrumb of this client. */
  session(): string {
    this.#sessionId ??= this.#settings.options.sessionId ?? this.#settings.randomUUID();
    return this.#sessionId;
  }
}
