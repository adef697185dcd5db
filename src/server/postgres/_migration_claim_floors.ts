/**
 * Schema version 4 of {@linkcode PostgresStore}: claims that stay as cheap
 * past the idempotency bounds as below them.
 *
 * - A floor on each row of `idempotency_counts`, below which every key of
 *   its scope (of all scopes for the row `''`) is gone. A claim past a bound
 *   deleted the oldest keys by scanning the `seq` index from its start, over
 *   the entries of every key deleted before it until vacuum removed them:
 *   keyed ingest fell from 3,200 to 1,400 requests a second over one minute.
 *   The claim now scans from the floor and moves it past the last key it
 *   deleted. Keys are only added above every existing one (claims take the
 *   total's row lock first, and `seq` grows), so the floor stays true; an
 *   older process trimming from the start leaves it true too. A floor of 0,
 *   the default, scans from the start.
 * - The claim keeps the counts itself, once per claim, with the row trigger
 *   skipped for its own inserts and deletes (`edgewire.claiming`, set for
 *   the claim's statements only), and deletes past a bound one key at a
 *   time, found by `min(seq)` from the floor, a plan PostgreSQL keeps: the
 *   trigger's statements for every key, and a trim by `ORDER BY` and `LIMIT`
 *   planned afresh at each claim, had halved the claims a second past the
 *   total bound. Releases, prunes and the version 1 function still count
 *   through the trigger.
 *
 * @module
 */

import { HELD } from "./_migration_claim_owner.ts";

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
DROP TRIGGER idempotency_keys_counted ON ${s}idempotency_keys;
CREATE TRIGGER idempotency_keys_counted AFTER INSERT OR DELETE ON ${s}idempotency_keys
  FOR EACH ROW WHEN (current_setting('edgewire.claiming', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION ${s}idempotency_count();
CREATE OR REPLACE FUNCTION ${s}claim_idempotency_key(p_scope text, p_key text,
    p_fingerprint text, p_now bigint, p_expires_at bigint, p_lease_expires_at bigint,
    p_max_scope bigint, p_max_total bigint, p_owner text)
  RETURNS TABLE (held boolean, held_fingerprint text, held_status integer, held_body text)
  LANGUAGE plpgsql AS $$
DECLARE
  found_row ${s}idempotency_keys%ROWTYPE;
  held_now boolean := false;
  replaced boolean := false;
  total bigint;
  lowest bigint;
  in_scope bigint;
  scope_floor bigint;
  highest bigint;
  emptied text;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  SELECT c.n, c.floor INTO total, lowest FROM ${s}idempotency_counts c WHERE c.scope = ''
    FOR UPDATE;
  SELECT * INTO found_row FROM ${s}idempotency_keys k WHERE k.scope = p_scope AND k.key = p_key;
  IF FOUND THEN
${HELD(s)}    replaced := true;
  END IF;
  PERFORM set_config('edgewire.claiming', 'on', true);
  -- A key replaced keeps its scope's and the total's counts as they were.
  IF replaced THEN
    DELETE FROM ${s}idempotency_keys k WHERE k.seq = found_row.seq;
  END IF;
  INSERT INTO ${s}idempotency_keys (scope, key, fingerprint, expires_at, lease_expires_at, owner)
    VALUES (p_scope, p_key, p_fingerprint, p_expires_at, p_lease_expires_at, p_owner);
  IF replaced THEN
    SELECT c.n, c.floor INTO in_scope, scope_floor FROM ${s}idempotency_counts c
      WHERE c.scope = p_scope;
  ELSE
    INSERT INTO ${s}idempotency_counts AS c (scope, n) VALUES (p_scope, 1)
      ON CONFLICT (scope) DO UPDATE SET n = c.n + 1
      RETURNING c.n, c.floor INTO in_scope, scope_floor;
    total := total + 1;
  END IF;
  -- One key at a time, the oldest by min(): a plan PostgreSQL keeps, where an ORDER BY and a
  -- LIMIT from a variable were planned afresh at every claim.
  IF in_scope > p_max_scope THEN
    WHILE in_scope > p_max_scope LOOP
      DELETE FROM ${s}idempotency_keys k WHERE k.seq = (SELECT min(o.seq)
          FROM ${s}idempotency_keys o WHERE o.scope = p_scope AND o.seq >= scope_floor)
        RETURNING k.seq INTO highest;
      EXIT WHEN NOT FOUND;
      in_scope := in_scope - 1;
      total := total - 1;
      scope_floor := highest + 1;
    END LOOP;
    UPDATE ${s}idempotency_counts SET n = in_scope, floor = scope_floor WHERE scope = p_scope;
  END IF;
  WHILE total > p_max_total LOOP
    DELETE FROM ${s}idempotency_keys k WHERE k.seq = (SELECT min(o.seq)
        FROM ${s}idempotency_keys o WHERE o.seq >= lowest)
      RETURNING k.seq, k.scope INTO highest, emptied;
    EXIT WHEN NOT FOUND;
    -- The key's scope counts one fewer, or goes with its last key.
    DELETE FROM ${s}idempotency_counts c WHERE c.scope = emptied AND c.n <= 1;
    IF NOT FOUND THEN
      UPDATE ${s}idempotency_counts SET n = n - 1 WHERE scope = emptied;
    END IF;
    total := total - 1;
    lowest := highest + 1;
  END LOOP;
  UPDATE ${s}idempotency_counts SET n = total, floor = lowest WHERE scope = '';
  PERFORM set_config('edgewire.claiming', '', true);
  RETURN QUERY SELECT false, NULL::text, NULL::integer, NULL::text;
END
$$;
`;
