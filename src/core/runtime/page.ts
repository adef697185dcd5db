/**
 * The web page and the global scope of a page or worker, as a client sees
 * them: the page's origin, the moment a page is hidden or left (`pagehide`,
 * and `visibilitychange` to `hidden`), and the global `error` and
 * `unhandledrejection` events. Each function looks at a `globals` object (by
 * default `globalThis`) through feature detection and answers `undefined`
 * where the feature is missing; none of them throws.
 *
 * @module
 */

import type { CrashSource } from "./lifecycle.ts";

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
 * @param globals Where to look for `location`; tests pass fakes.
 * @returns `location.origin`, or `undefined` outside a web page (a `file:` or `about:` page included).
 *
 * @example
 * ```ts
 * import { pageOrigin } from "./page.ts";
 *
 * console.log(pageOrigin({ location: { origin: "https://app.example.com" } })); // "https://app.example.com"
 * console.log(pageOrigin({})); // undefined
 * ```
 */
export function pageOrigin(globals: object = globalThis): string | undefined {
  const origin = (globals as PageGlobals).location?.origin;
  return typeof origin === "string" && /^https?:/.test(origin) ? origin : undefined;
}

/**
 * Calls `callback` whenever the page is left (`pagehide`) or hidden
 * (`visibilitychange` with `document.visibilityState` `"hidden"`): the last
 * moments a page can start a request that outlives it (with `keepalive`).
 *
 * @param callback What to run; called with no argument.
 * @param globals Where to look for the window and its `document`; tests pass fakes.
 * @returns A function that removes the listeners, or `undefined` without a page.
 *
 * @example
 * ```ts
 * import { onPageHidden } from "./page.ts";
 *
 * const stop = onPageHidden(() => console.log("send what is queued now"));
 * stop?.();
 * ```
 */
export function onPageHidden(
  callback: () => void,
  globals: object = globalThis,
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
  // Older pages fire visibilitychange on the window rather than the document
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
 * cancelling the event: the error is still reported as it would be. Where
 * the runtime has a process, `processLifecycle().onCrash` is the better hook.
 *
 * @param callback What to run with the error (or the message when the event has no error) and its source.
 * @param globals Where to look for `addEventListener`; tests pass fakes.
 * @returns A function that removes the listeners, or `undefined` without such events.
 *
 * @example
 * ```ts
 * import { onGlobalErrors } from "./page.ts";
 *
 * const target = new EventTarget();
 * const stop = onGlobalErrors((error, source) => console.log(source, error), target);
 * target.dispatchEvent(new ErrorEvent("error", { error: new Error("boom") })); // "exception" Error: boom
 * stop?.();
 * ```
 */
export function onGlobalErrors(
  callback: (error: unknown, source: CrashSource) => void,
  globals: object = globalThis,
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

function eventTarget(globals: unknown): EventTargetLike | undefined {
  if (typeof globals !== "object" || globals === null) return undefined;
  const target = globals as Partial<EventTargetLike>;
  if (
    typeof target.addEventListener !== "function" ||
    typeof target.removeEventListener !== "function"
  ) {
    return undefined;
  }
  return target as EventTargetLike;
}
