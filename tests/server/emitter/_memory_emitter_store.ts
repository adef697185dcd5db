/**
 * The broker tests' store: the server's real MemoryStore behind a thin
 * wrapper that records what the broker stores and can be told to fail, so a
 * test sees the broker's writes and its handling of store errors.
 *
 * @module
 */

import { MemoryStore } from "../../../src/server/memory/memory_store.ts";
import type {
  EmitterContractUsage,
  EmitterMessageQuery,
  EmitterStore,
  EmitterStoredMessage,
} from "../../../src/server/emitter/store.ts";

/** A MemoryStore's Emitter methods, recorded, with a failure switch. */
export class TestEmitterStore implements EmitterStore, AsyncDisposable {
  readonly memory = new MemoryStore();
  /** Every message the broker stored, in order. */
  readonly stored: EmitterStoredMessage[] = [];
  /** When set, every call rejects. */
  fail = false;
  /** When set, message writes wait for it, as a commit would. */
  gate: Promise<void> | undefined;

  #check(): void {
    if (this.fail) throw new Error("store down");
  }

  async storeEmitterMessage(message: EmitterStoredMessage): Promise<void> {
    this.#check();
    await this.gate;
    await this.memory.storeEmitterMessage(message);
    this.stored.push(message);
  }

  async queryEmitterMessages(query: EmitterMessageQuery): Promise<EmitterStoredMessage[]> {
    this.#check();
    return await this.memory.queryEmitterMessages(query);
  }

  async emitterContractUsage(contract: number, now: number): Promise<EmitterContractUsage> {
    this.#check();
    return await this.memory.emitterContractUsage(contract, now);
  }

  async setEmitterKeyBan(keyHash: string, banned: boolean, now = 0): Promise<void> {
    this.#check();
    await this.memory.setEmitterKeyBan(keyHash, banned, now);
  }

  async listEmitterKeyBans(): Promise<string[]> {
    this.#check();
    return await this.memory.listEmitterKeyBans();
  }

  async pruneEmitter(now: number, limit: number): Promise<number> {
    this.#check();
    return await this.memory.pruneEmitter(now, limit);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.memory.close();
  }
}
