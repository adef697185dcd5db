/**
 * What the Honch client records without being asked: the start events
 * (`$firmware_update` when the persisted firmware version changed, then
 * `$device_boot`), the automatic properties stamped on events
 * (`autoProperties`, `$battery_level`), the one `$battery_low` per dip below
 * the threshold, and whether the device is online.
 *
 * @module
 */

import { type Storage, StorageError, type StorageOperation } from "../core/storage.ts";
import { KEY_DISTINCT_ID } from "./_identity.ts";
import { SDK_OWNED_KEYS, toQueuedValue } from "./_properties.ts";
import { RESERVED_PROPERTY_IDS } from "./wire_v2.ts";

/** Where the firmware version of the last start persists. */
export const KEY_FIRMWARE = "honch:firmware_version";

/** What storage held at start. */
export interface StartState {
  /** The identified distinct id, if one was persisted. */
  storedId?: string;
  /** The firmware version of the last start, if one was persisted. */
  storedFirmware?: string;
  /** Why storage could not be read or written; the client goes on with what it has. */
  error?: StorageError;
}

/**
 * Reads the persisted distinct id and firmware version, and persists the
 * current firmware version when it changed.
 *
 * @param storage Where they persist.
 * @param firmwareVersion The firmware version of this start.
 * @returns What was read, and the storage failure if there was one.
 */
export async function readStartState(
  storage: Storage,
  firmwareVersion: string,
): Promise<StartState> {
  const state: StartState = {};
  let key = KEY_DISTINCT_ID;
  let operation: StorageOperation = "get";
  try {
    state.storedId = await storage.get(key);
    key = KEY_FIRMWARE;
    state.storedFirmware = await storage.get(key);
    if (state.storedFirmware !== firmwareVersion) {
      operation = "set";
      await storage.set(key, firmwareVersion);
    }
  } catch (error) {
    state.error = new StorageError(
      `Cannot restore the Honch identity or firmware version as the storage failed to ${operation} '${key}': check the storage`,
      { key, operation, cause: error },
    );
  }
  return state;
}

/**
 * The events that open a start, in order.
 *
 * @param storedFirmware The firmware version of the last start, if known.
 * @param firmwareVersion The firmware version of this start.
 * @param resetReason The `reset_reason` of `$device_boot`.
 * @returns Each event's name and properties.
 */
export function startEvents(
  storedFirmware: string | undefined,
  firmwareVersion: string,
  resetReason: string,
): [string, Record<string, unknown>][] {
  const events: [string, Record<string, unknown>][] = [];
  if (typeof storedFirmware === "string" && storedFirmware !== firmwareVersion) {
    events.push([
      "$firmware_update",
      { previous_version: storedFirmware, new_version: firmwareVersion },
    ]);
  }
  events.push(["$device_boot", { reset_reason: resetReason }]);
  return events;
}

/** The properties stamped on events, and the battery-low alarm. */
export class AutomaticProperties {
  readonly #autoProperties: (() => Record<string, unknown> | undefined) | undefined;
  readonly #batteryLevel: (() => number | undefined) | undefined;
  readonly #lowThreshold: number;
  #armed = true;

  /**
   * Keeps the callbacks; none is called yet.
   *
   * @param autoProperties Extra properties for every event.
   * @param batteryLevel The battery level in percent.
   * @param lowThreshold The level below which `$battery_low` fires.
   */
  constructor(
    autoProperties: (() => Record<string, unknown> | undefined) | undefined,
    batteryLevel: (() => number | undefined) | undefined,
    lowThreshold: number,
  ) {
    this.#autoProperties = autoProperties;
    this.#batteryLevel = batteryLevel;
    this.#lowThreshold = lowThreshold;
  }

  /**
   * Adds the automatic properties the event does not have, and `$battery_level`.
   *
   * @param properties The event's properties; changed in place.
   * @returns The battery level stamped, if known.
   */
  stamp(properties: Record<string, unknown>): number | undefined {
    for (const [key, value] of this.#autoEntries()) {
      if (!(key in properties)) properties[key] = value;
    }
    const level = this.#readBattery();
    if (level !== undefined) properties.$battery_level = level;
    return level;
  }

  /**
   * Tells whether `level` starts a dip below the threshold, re-arming once it is back above.
   *
   * @param level The battery level just stamped.
   * @returns `true` once per dip: queue `$battery_low`.
   */
  batteryLow(level: number): boolean {
    if (level >= this.#lowThreshold) {
      this.#armed = true;
      return false;
    }
    if (!this.#armed) return false;
    this.#armed = false;
    return true;
  }

  /** Arms the alarm again, as after a reset. */
  rearm(): void {
    this.#armed = true;
  }

  #autoEntries(): [string, unknown][] {
    if (this.#autoProperties === undefined) return [];
    let extra: Record<string, unknown> | undefined;
    try {
      extra = this.#autoProperties();
    } catch {
      // A failing callback must not cost the event itself.
      return [];
    }
    if (typeof extra !== "object" || extra === null) return [];
    const entries: [string, unknown][] = [];
    for (const key of Object.keys(extra)) {
      if (SDK_OWNED_KEYS.has(key) || (key in RESERVED_PROPERTY_IDS && key !== "$wifi_rssi")) {
        continue;
      }
      try {
        entries.push([key, toQueuedValue(extra[key], `autoProperties.${key}`)]);
      } catch {
        // An unencodable automatic value is skipped rather than failing the caller's track().
      }
    }
    return entries;
  }

  #readBattery(): number | undefined {
    if (this.#batteryLevel === undefined) return undefined;
    let level: number | undefined;
    try {
      level = this.#batteryLevel();
    } catch {
      return undefined;
    }
    if (typeof level !== "number" || !Number.isFinite(level) || level < 0) return undefined;
    return Math.min(100, Math.round(level));
  }
}

/** Whether uploads may be attempted: the last connectivity report and the callback agree. */
export class Connectivity {
  readonly #callback: (() => boolean) | undefined;
  #reported = true;

  /**
   * Starts online.
   *
   * @param callback Tells whether the network is up, if given.
   */
  constructor(callback: (() => boolean) | undefined) {
    this.#callback = callback;
  }

  /**
   * Records a connectivity report.
   *
   * @param connected Whether the network is up.
   * @returns The state recorded.
   */
  report(connected: boolean): boolean {
    this.#reported = connected === true;
    return this.#reported;
  }

  /** Whether the device is online now; a callback that throws counts as online. */
  get online(): boolean {
    if (!this.#reported) return false;
    if (this.#callback === undefined) return true;
    try {
      return this.#callback() !== false;
    } catch {
      return true;
    }
  }
}
