/**
 * Exercises the Spot client against a running relay, in whatever runtime
 * imports it, with two clients over the runtime's own `WebSocket`: each
 * makes a P-256 key and its IDCard and completes the relay's handshake; the
 * second answers queries on `matrix`; the first asks it one (encrypted for
 * the second's card and signed, both ways), reads the relay's clock, stores
 * a blob and fetches it back, stores a second one, deletes it and finds it
 * gone; both close. It names no runtime and no file, so the same code runs
 * bundled under Node and Bun, inside a workerd Worker and in a Chromium page;
 * each harness prints or answers the report as JSON.
 *
 * @module
 */

import { cryptoBackends, SpotClient, SpotRemoteError } from "../../src/spot/mod.ts";
import { detectRuntime } from "../../src/core/runtime/mod.ts";

/** How long one step may take before the run fails. */
const STEP_MS = 10_000;

/** What one run reports back to its harness. */
export interface SpotReport {
  /** The runtime, as the package itself detects it. */
  runtime: { name: string; version: string };
  /** The label the harness chose; the query and the blob keys carry it. */
  label: string;
  /** Where Ed25519 and X25519 ran: WebCrypto, or `@noble/curves` where the runtime lacks them. */
  backends: { ed25519: string; x25519: string };
  /** The asking client's address (`k.<hash>`), the owner of its blobs on the relay. */
  asker: string;
  /** The answering client's address. */
  answerer: string;
  /** What the answering client's handler saw of the query. */
  received: { text: string; fromAsker: boolean; bottled: boolean; encrypted: boolean };
  /** The answer the asking client got, as text. */
  answer: string;
  /** How far the relay's `@/time` is from the runtime's clock, in ms. */
  clockSkewMs: number;
  /** The key of the blob left on the relay, and what fetching it gave back. */
  blob: { key: string; fetched: string };
  /** The key of the blob stored then deleted, and the error code fetching it gave. */
  deleted: { key: string; fetchError: string };
  /** Messages of unexpected errors in the handler, which should stay empty. */
  errors: string[];
}

/** The text the asking client sends, and the blob holds, in the run labelled `label`. */
export function matrixText(label: string): string {
  return JSON.stringify({ label, hello: "spot" });
}

/** The answer the answering client gives to `text`. */
export function matrixAnswer(text: string): string {
  return `answered ${text}`;
}

/**
 * Runs two Spot clients once against the relay at `url`.
 *
 * @param url The relay's WebSocket URL, such as `ws://127.0.0.1:8080/_websocket`.
 * @param label A name for this run (the runtime's, usually).
 * @returns What the clients saw.
 */
export async function exerciseSpot(url: string, label: string): Promise<SpotReport> {
  const errors: string[] = [];
  const asker = new SpotClient({ url, timeoutMs: STEP_MS });
  const answerer = new SpotClient({ url, timeoutMs: STEP_MS });
  try {
    let received: SpotReport["received"] | undefined;
    answerer.setHandler("matrix", (message) => {
      try {
        const text = new TextDecoder().decode(message.body);
        received = {
          text,
          fromAsker: message.sender.startsWith(`${asker.address}/`),
          bottled: message.bottled,
          encrypted: message.encrypted,
        };
        return matrixAnswer(text);
      } catch (error) {
        errors.push(String(error));
        throw error;
      }
    });
    await Promise.all([asker.waitOnline(), answerer.waitOnline()]);
    const text = matrixText(label);
    const answer = await asker.query(`${answerer.address}/matrix`, text);
    const time = await asker.getTime();
    const clockSkewMs = Math.abs(time.epochMilliseconds - Date.now());

    const blobKey = `matrix-${label}`;
    await asker.storeBlob(blobKey, text);
    const fetched = new TextDecoder().decode(await asker.fetchBlob(blobKey));
    const deletedKey = `matrix-${label}-deleted`;
    await asker.storeBlob(deletedKey, "short-lived");
    await asker.deleteBlob(deletedKey);
    let fetchError = "none";
    try {
      await asker.fetchBlob(deletedKey);
    } catch (error) {
      fetchError = error instanceof SpotRemoteError ? String(error.code) : String(error);
    }
    if (received === undefined) throw new Error("The answering client's handler never ran");
    return {
      runtime: detectRuntime(),
      label,
      backends: await cryptoBackends(),
      asker: asker.address,
      answerer: answerer.address,
      received,
      answer: new TextDecoder().decode(answer),
      clockSkewMs,
      blob: { key: blobKey, fetched },
      deleted: { key: deletedKey, fetchError },
      errors,
    };
  } finally {
    asker.close();
    answerer.close();
  }
}
