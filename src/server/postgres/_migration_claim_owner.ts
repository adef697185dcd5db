/**
 * The schema change that records who made each idempotency claim (see
 * `_claim_owner.ts`): an `owner` column, and `claim_idempotency_key` with
 * the owner as a ninth argument, which takes over at once an unanswered
 * claim whose owner died (its owner's lock is free), so a client's retry on
 * another process need not wait for the lease. The eight-argument function of version 1
 * stays, so a process of an older release still claims (its claims, owner
 * NULL, count as dead when a store opens, as before this change). The test
 * of an existing claim, {@linkcode HELD}, is shared with version 4's function.
 *
 * @module
 */

import { OWNER_APPLICATION_PREFIX, OWNER_LOCK_PREFIX } from "./_claim_owner.ts";

const C = 'COLLATE "C"';

/**
 * The migration's SQL.
 *
 * @param s The quoted schema with a trailing dot.
 * @returns The statements.
 */
export const CLAIM_OWNER = (s: string): string => `
ALTER TABLE ${s}idempotency_keys ADD COLUMN owner text ${C};
CREATE FUNCTION ${s}claim_idempotency_key(p_scope text, p_key text, p_fingerprint text,
    p_now bigint, p_expires_at bigint, p_lease_expires_at bigint, p_max_scope bigint,
    p_max_total bigint, p_owner text)
  RETURNS TABLE (held boolean, held_fingerprint text, held_status integer, held_body text)
  LANGUAGE plpgsql AS $$
DECLARE
  found_row ${s}idempotency_keys%ROWTYPE;
  counted bigint;
  held_now boolean := false;
BEGIN
  PERFORM set_config('synchronous_commit', 'off', true);
  PERFORM 1 FROM ${s}idempotency_counts c WHERE c.scope = '' FOR UPDATE;
  SELECT * INTO found_row FROM ${s}idempotency_keys k WHERE k.scope = p_scope AND k.key = p_key;
  IF FOUND THEN
${HELD(s)}    DELETE FROM ${s}idempotency_keys k WHERE k.seq = found_row.seq;
  END IF;
  INSERT INTO ${s}idempotency_keys (scope, key, fingerprint, expires_at, lease_expires_at, owner)
    VALUES (p_scope, p_key, p_fingerprint, p_expires_at, p_lease_expires_at, p_owner);
  SELECT c.n INTO counted FROM ${s}idempotency_counts c WHERE c.scope = p_scope;
  IF counted > p_max_scope THEN
    DELETE FROM ${s}idempotency_keys k WHERE k.seq IN (SELECT o.seq FROM ${s}idempotency_keys o
      WHERE o.scope = p_scope ORDER BY o.seq LIMIT counted - p_max_scope);
  END IF;
  SELECT c.n INTO counted FROM ${s}idempotency_counts c WHERE c.scope = '';
  IF counted > p_max_total THEN
    DELETE FROM ${s}idempotency_keys k WHERE k.seq IN (SELECT o.seq FROM ${s}idempotency_keys o
      ORDER BY o.seq LIMIT counted - p_max_total);
  END IF;
  RETURN QUERY SELECT false, NULL::text, NULL::integer, NULL::text;
END
$$;
`;

/**
 * The start of `IF FOUND THEN` in `claim_idempotency_key`, after a key's
 * row is read into `found_row`: returns the key's fingerprint and answer when
 * the claim stays held (answered, or unanswered within its lease by a live
 * owner); otherwise the function goes on to replace the row.
 *
 * @param s The quoted schema with a trailing dot.
 * @returns The PL/pgSQL statements.
 */
export const HELD = (s: string): string =>
  `    IF found_row.expires_at > p_now THEN
      IF found_row.status IS NOT NULL AND found_row.body IS NOT NULL THEN
        held_now := true;
      ELSIF found_row.lease_expires_at > p_now THEN
        -- Unanswered within its lease: held, unless its owner died (its lock is free, taken here
        -- to the commit), when the retry takes it over at once: nothing was recorded for it.
        -- A pool the store opened names its connections after the owner: while one of them is
        -- left, a statement of the dead process may still be running, so the claim is held.
        held_now := found_row.owner IS NULL OR found_row.owner = p_owner OR NOT
          pg_try_advisory_xact_lock(hashtextextended('${OWNER_LOCK_PREFIX}' || found_row.owner, 0))
          OR EXISTS (SELECT 1 FROM pg_stat_activity a
            WHERE a.application_name = '${OWNER_APPLICATION_PREFIX}' || found_row.owner);
        IF NOT held_now THEN
          -- Read again under its lock: an answer a statement committed meanwhile is kept.
          SELECT * INTO found_row FROM ${s}idempotency_keys k WHERE k.seq = found_row.seq
            FOR UPDATE;
          held_now := FOUND AND found_row.status IS NOT NULL AND found_row.body IS NOT NULL;
        END IF;
      END IF;
    END IF;
    IF held_now THEN
      RETURN QUERY SELECT true, found_row.fingerprint, found_row.status, found_row.body;
      RETURN;
    END IF;
`;
