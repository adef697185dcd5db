/**
 * The relay's own endpoints, `@/<name>`: `time` (12 bytes: u64 seconds,
 * u32 nanoseconds, big-endian), `idcard_find` (a 32-byte key hash: the
 * signed card, and the asker follows it), `group_list` (a group key: the
 * members' 32-byte hashes), `store_blob` (key, 0x00, bottle; an empty value
 * deletes) and `fetch_blob` (key: the bottle). Blobs are kept per owner, the
 * verified `k.` address of the asker. Answers are raw bytes (the clients
 * read them as not-bottle answers); failures are error texts.
 *
 * @module
 */

import {
  encodeGroupList,
  encodeTimeAnswer,
  KEY_HASH_BYTES,
  parseFetchBlobBody,
  parseStoreBlobBody,
} from "../../spot/proto/mod.ts";
import { utf8ByteLength } from "../../core/utf8.ts";
import type { CardRegistry } from "./_registry.ts";
import type { ResolvedSpotRelayOptions } from "./options.ts";
import { SPOT_BLOB_KEY_MAX_BYTES, type SpotStore } from "./store.ts";

/** The most members `@/group_list` answers: what fits in one packet with room to spare. */
export const MAX_GROUP_LIST_MEMBERS = 16_384;

/** An endpoint's answer: a body, or an error text. */
export type SystemAnswer = { ok: true; body: Uint8Array } | { ok: false; error: string };

/** What the endpoints read and write. */
export interface SystemContext {
  /** The server store. */
  readonly store: SpotStore;
  /** The relay's options. */
  readonly options: ResolvedSpotRelayOptions;
  /** The relay's cards. */
  readonly registry: CardRegistry;
}

/** The client asking. */
export interface SystemCaller {
  /** Its verified `k.` address, the owner of its blobs. */
  readonly address: string;
  /**
   * Follows a card for `idcard_update` notifications.
   *
   * @param hash The card's key hash.
   * @returns Whether it follows it (false past its limit).
   */
  follow(hash: Uint8Array): boolean;
}

const EMPTY = new Uint8Array();

/**
 * Answers one request to a system endpoint.
 *
 * @param context The store, options and cards.
 * @param caller Who asks.
 * @param endpoint The endpoint after `@/`, such as `time`.
 * @param body The request's payload (already out of its bottle).
 * @returns The answer.
 */
export async function answerSystem(
  context: SystemContext,
  caller: SystemCaller,
  endpoint: string,
  body: Uint8Array,
): Promise<SystemAnswer> {
  switch (endpoint) {
    case "time":
      return { ok: true, body: encodeTimeAnswer(context.options.now()) };
    case "idcard_find": {
      if (body.length !== KEY_HASH_BYTES) {
        return fail(
          `idcard_find needs a ${KEY_HASH_BYTES}-byte key hash, got ${body.length} bytes`,
        );
      }
      const signed = context.registry.find(body);
      if (signed === undefined) return fail("ID card not found");
      caller.follow(body.slice());
      return { ok: true, body: signed };
    }
    case "group_list":
      if (body.length === 0) return fail("group_list needs a group key");
      return {
        ok: true,
        body: encodeGroupList(context.registry.members(body, MAX_GROUP_LIST_MEMBERS)),
      };
    case "store_blob":
      return await storeBlob(context, caller, body);
    case "fetch_blob": {
      let key: string;
      try {
        key = parseFetchBlobBody(body);
      } catch {
        return fail("fetch_blob needs a UTF-8 key without 0x00");
      }
      const value = await context.store.getSpotBlob(caller.address, key);
      return value === undefined ? fail("blob not found") : { ok: true, body: value };
    }
    default:
      return fail(`unknown system endpoint ${JSON.stringify(endpoint.slice(0, 64))}`);
  }
}

async function storeBlob(
  context: SystemContext,
  caller: SystemCaller,
  body: Uint8Array,
): Promise<SystemAnswer> {
  let key: string;
  let value: Uint8Array | null;
  try {
    ({ key, value } = parseStoreBlobBody(body));
  } catch {
    return fail("store_blob needs a UTF-8 key, 0x00, then the value");
  }
  if (key.length === 0 || utf8ByteLength(key) > SPOT_BLOB_KEY_MAX_BYTES) {
    return fail(`store_blob key must be 1 to ${SPOT_BLOB_KEY_MAX_BYTES} bytes`);
  }
  if (value === null) {
    await context.store.deleteSpotBlob(caller.address, key);
    return { ok: true, body: EMPTY };
  }
  const { maxBlobBytes, maxOwnerBytes, maxOwnerBlobs, now } = context.options;
  if (value.length > maxBlobBytes) {
    return fail(`blob of ${value.length} bytes is over the limit of ${maxBlobBytes} bytes`);
  }
  const stored = await context.store.putSpotBlob({
    owner: caller.address,
    key,
    value,
    now: now(),
    maxOwnerBytes,
    maxOwnerBlobs,
  });
  return stored ? { ok: true, body: EMPTY } : fail("blob storage quota exceeded");
}

function fail(error: string): SystemAnswer {
  return { ok: false, error };
}
