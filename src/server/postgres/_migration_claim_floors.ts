/**
 * Schema version 4 of {@linkcode PostgresStore}: a floor on each row of
 * `idempotency_counts`, below which every key of its scope (of all scopes
 * for the row `''`) is known to be gone. A claim past a bound deleted the
 * oldest keys by scanning the `seq` index from its start, over the entries
 * of every key deleted before it until vacuum removed them: past the total
 * bound, each claim deletes one, and keyed ingest fell from 3,200 to 1,400
 * requests a second over one minute. The claim now scans from the floor and
 * moves it past the last key it deleted. Keys are only ever added above
 * every existing one (claims take the total's row lock first, and `seq`
 * grows), so the floor stays true; an older process trimming from the start
 * leaves it true too. A floor of 0, the default, scans from the start.
 *
 * @module
 */

import { claimFunction } from "./_migration_claim_owner.ts";

/**
 * The migration's SQL.
 *
 * @param s The quoted schema with a trailing dot, such as `"edgewire".`.
 * @returns The statements, run in the migration's transaction.
 * @example
 * ```ts
 * import { CLAIM_FLOORS } from "./_migration_claim_floors.ts";
 *
 * console.log(CLAIM_FLOORS('"edgewire".').includes("floor")); // true
 * ```
 */
export const CLAIM_FLOORS = (s: string): string => `
ALTER TABLE ${s}idempotency_counts ADD COLUMN floor bigint NOT NULL DEFAULT 0;
${claimFunction(s, true)}`;
