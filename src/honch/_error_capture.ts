/**
 * Errors the Honch client reports about the program it runs in: error-level
 * log lines coalesced into at most four `$error` slots, `$crash` properties
 * with a backtrace cut by whole frames to the wire's byte budgets, and the
 * hook that hears uncaught errors (the runtime's crash monitor, else the
 * global `error` and `unhandledrejection` events).
 *
 * @module
 */

import { type CrashSource, onGlobalErrors, processLifecycle } from "../core/runtime/mod.ts";
import { truncateUtf8, utf8ByteLength } from "../core/utf8.ts";

const ERROR_SLOTS = 4;
const ERROR_COMPONENT_BYTES = 32;
const ERROR_MESSAGE_BYTES = 128;
const CRASH_MESSAGE_BYTES = 256;
// One wire string holds at most 512 bytes, so a longer backtrace could never be sent.
const CRASH_BACKTRACE_BYTES = 512;

interface ErrorSlot {
  component: string | undefined;
  message: string;
  count: number;
}

/**
 * Error-level log lines waiting to become `$error` events: identical reports
 * share one of four slots and count up; distinct reports beyond four are only
 * counted, and the count rides on the next `$error`.
 */
export class LogErrors {
  #slots = new Map<string, ErrorSlot>();
  #dropped = 0;

  /**
   * Counts one report; never throws.
   *
   * @param message The log line, cut to 128 bytes.
   * @param component The component or log tag, cut to 32 bytes.
   */
  report(message: unknown, component: unknown): void {
    const text = truncateUtf8(String(message), ERROR_MESSAGE_BYTES);
    const tag = typeof component === "string"
      ? truncateUtf8(component, ERROR_COMPONENT_BYTES)
      : undefined;
    const key = `${tag ?? ""}\u0000${text}`;
    const slot = this.#slots.get(key);
    if (slot !== undefined) {
      slot.count++;
    } else if (this.#slots.size < ERROR_SLOTS) {
      this.#slots.set(key, { component: tag, message: text, count: 1 });
    } else {
      this.#dropped++;
    }
  }

  /**
   * Empties the slots.
   *
   * @returns The properties of one `$error` event per slot, the dropped count on the first.
   */
  drain(): Record<string, unknown>[] {
    if (this.#slots.size === 0 && this.#dropped === 0) return [];
    let dropped = this.#dropped;
    const events: Record<string, unknown>[] = [];
    for (const slot of this.#slots.values()) {
      const properties: Record<string, unknown> = { level: "error" };
      if (slot.component !== undefined) properties.component = slot.component;
      properties.message = slot.message;
      properties.count = slot.count;
      if (dropped > 0) {
        properties.dropped = dropped;
        dropped = 0;
      }
      events.push(properties);
    }
    this.#slots.clear();
    // With no slot to carry it, the count waits for the next $error.
    this.#dropped = dropped;
    return events;
  }

  /** Forgets every report and the dropped count. */
  clear(): void {
    this.#slots.clear();
    this.#dropped = 0;
  }
}

/**
 * The properties of a `$crash` event for `error`, its backtrace trimmed by
 * whole frames from the far end until `fits` accepts them.
 *
 * @param error What was thrown.
 * @param source Where it was caught: `"exception"` or `"unhandled_rejection"`.
 * @param fits Whether an event with these properties is small enough to queue.
 * @returns `source`, `severity`, `name`, `message` and `backtrace`.
 */
export function crashProperties(
  error: unknown,
  source: string,
  fits: (properties: Record<string, unknown>) => boolean,
): Record<string, unknown> {
  const name = error instanceof Error ? error.name : typeof error;
  const message = truncateUtf8(
    error instanceof Error ? error.message : String(error),
    CRASH_MESSAGE_BYTES,
  );
  const frames = stackFrames(error);
  const properties: Record<string, unknown> = {
    source,
    severity: "fatal",
    name,
    message,
    backtrace: fitFrames(frames, CRASH_BACKTRACE_BYTES),
  };
  let kept = frames.length;
  while (!fits(properties) && kept > 0) {
    kept--;
    properties.backtrace = fitFrames(frames.slice(0, kept), CRASH_BACKTRACE_BYTES);
  }
  return properties;
}

/**
 * Listens for uncaught errors and unhandled rejections: through the
 * runtime's crash monitor under Deno, Node and Bun, else through the global
 * `error` and `unhandledrejection` events. Never cancels what it hears.
 *
 * @param globals Where to look.
 * @param report Called synchronously with each error and its source.
 * @returns A function that removes the hook, or `undefined` where nothing reports uncaught errors.
 */
export function installCrashHook(
  globals: object,
  report: (error: unknown, source: CrashSource) => void,
): (() => void) | undefined {
  const lifecycle = processLifecycle(globals);
  if (lifecycle.onCrash !== undefined) return lifecycle.onCrash(report);
  return onGlobalErrors(report, globals);
}

/** The stack frames of `error`, crash site first, without the leading `Name: message` line. */
function stackFrames(error: unknown): string[] {
  const stack = typeof error === "object" && error !== null
    ? (error as { stack?: unknown }).stack
    : undefined;
  if (typeof stack !== "string") return [];
  const frames: string[] = [];
  for (const line of stack.split("\n")) {
    const trimmed = line.trim();
    // V8 prefixes frames with "at "; SpiderMonkey and JavaScriptCore write "fn@file:line:col".
    if (trimmed.startsWith("at ") || /@.+:\d+/.test(trimmed)) frames.push(trimmed);
  }
  return frames;
}

/** Joins whole frames, crash site first, while they fit in `maxBytes`. */
function fitFrames(frames: readonly string[], maxBytes: number): string {
  let text = "";
  let bytes = 0;
  for (const frame of frames) {
    const size = utf8ByteLength(frame) + (text === "" ? 0 : 1);
    if (bytes + size > maxBytes) break;
    text += text === "" ? frame : "\n" + frame;
    bytes += size;
  }
  return text;
}
