/**
 * The browser feature detection the Honch client needs, in one place: the
 * page's origin, the moment a page is hidden or left (`pagehide`, and
 * `visibilitychange` to `hidden`), and the global `error` and
 * `unhandledrejection` events. Each looks at a `globals` object (by default
 * `globalThis`) the way the runtime shim's functions do, and answers
 * `undefined` where the feature is missing. These belong in
 * `src/core/runtime/`; the client calls nothing else that detects a browser.
 *
 * @module
 */

import type { CrashSource } from "../core/runtime/mod.ts";

type Listener = (event: Event) => void;

interface EventTargetLike {
  addEventListener(type: string, listener: Listener): void;
  removeEventListener(type: string, listener: Listener): void;
}

interface PageGlobals {
  location?: { origin?: unknown };
  document?: unknown;
}

/**
 * The origin of the page the code runs in, when it is an http or https page.
 *
 * @param globals Where to look.
 * @returns `location.origin`, or `undefined` outside a web page.
 */
export function pageOrigin(globals: object): string | undefined {
  const origin = (globals as PageGlobals).location?.origin;
  return typeof origin === "string" && /^https?:/.test(origin) ? origin : undefined;
}

/**
 * Calls `callback` whenever the page is left (`pagehide`) or hidden
 * (`visibilitychange` with `document.visibilityState` `"hidden"`): the last
 * moments a page can start a request that outlives it.
 *
 * @param globals Where to look for the window and its `document`.
 * @param callback What to run; called with no argument.
 * @returns A function that removes the listeners, or `undefined` without a page.
 */
export function onPageHidden(
  globals: object,
  callback: () => void,
): (() => void) | undefined {
  const target = eventTarget(globals);
  const document = (globals as PageGlobals).document as
    | (Partial<EventTargetLike> & { visibilityState?: string })
    | undefined;
  if (target === undefined || typeof document !== "object" || document === null) return undefined;
  const onPageHide: Listener = () => callback();
  const onVisibility: Listener = () => {
    if (document.visibilityState === "hidden") callback();
  };
  // Older pages fire visibilitychange on the window rather than the document.
  const visibilityTarget = eventTarget(document) ?? target;
  target.addEventListener("pagehide", onPageHide);
  visibilityTarget.addEventListener("visibilitychange", onVisibility);
  return () => {
    target.removeEventListener("pagehide", onPageHide);
    visibilityTarget.removeEventListener("visibilitychange", onVisibility);
  };
}

/**
 * Calls `callback` with every uncaught error (`error` event) and unhandled
 * rejection (`unhandledrejection` event) of a page or worker, without
 * cancelling the event: the error is still reported as it would be.
 *
 * @param globals Where to look for `addEventListener`.
 * @param callback What to run with the error (or the message) and its source.
 * @returns A function that removes the listeners, or `undefined` without such events.
 */
export function onGlobalErrors(
  globals: object,
  callback: (error: unknown, source: CrashSource) => void,
): (() => void) | undefined {
  const target = eventTarget(globals);
  if (target === undefined) return undefined;
  const onError: Listener = (event) => {
    const { error, message } = event as ErrorEvent;
    callback(error ?? message, "exception");
  };
  const onRejection: Listener = (event) => {
    callback((event as PromiseRejectionEvent).reason, "unhandled_rejection");
  };
  target.addEventListener("error", onError);
  target.addEventListener("unhandledrejection", onRejection);
  return () => {
    target.removeEventListener("error", onError);
    target.removeEventListener("unhandledrejection", onRejection);
  };
}

function eventTarget(globals: object): EventTargetLike | undefined {
  const target = globals as Partial<EventTargetLike>;
  if (
    typeof target.addEventListener !== "function" ||
    typeof target.removeEventListener !== "function"
  ) {
    return undefined;
  }
  return target as EventTargetLike;
}
