/**
 * The runtime shim's page functions over fake globals: the page origin, the
 * page being hidden or left, and the global error events.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type CrashSource,
  onGlobalErrors,
  onPageHidden,
  pageOrigin,
} from "../../src/core/runtime/mod.ts";

/** A window with a document, both event targets, as a browser has. */
function fakePage(visibilityState = "visible") {
  const document = Object.assign(new EventTarget(), { visibilityState });
  const window = Object.assign(new EventTarget(), { document });
  return { window, document };
}

Deno.test("pageOrigin answers an http or https location.origin and nothing else", () => {
  assert.equal(
    pageOrigin({ location: { origin: "https://app.example.com" } }),
    "https://app.example.com",
  );
  assert.equal(
    pageOrigin({ location: { origin: "http://127.0.0.1:8080" } }),
    "http://127.0.0.1:8080",
  );
  assert.equal(pageOrigin({ location: { origin: "null" } }), undefined);
  assert.equal(pageOrigin({ location: { origin: "file://" } }), undefined);
  assert.equal(pageOrigin({ location: {} }), undefined);
  assert.equal(pageOrigin({}), undefined);
  // Deno has no location unless started with --location
  assert.equal(pageOrigin(), undefined);
});

Deno.test("onPageHidden calls back on pagehide and on visibilitychange to hidden only", () => {
  const { window, document } = fakePage();
  let calls = 0;
  const stop = onPageHidden(() => calls++, window);
  assert.equal(typeof stop, "function");
  document.dispatchEvent(new Event("visibilitychange"));
  assert.equal(calls, 0, "visible is not hidden");
  document.visibilityState = "hidden";
  document.dispatchEvent(new Event("visibilitychange"));
  assert.equal(calls, 1);
  window.dispatchEvent(new Event("pagehide"));
  assert.equal(calls, 2);
  stop!();
  window.dispatchEvent(new Event("pagehide"));
  document.dispatchEvent(new Event("visibilitychange"));
  assert.equal(calls, 2, "nothing after the listeners are removed");
});

Deno.test("onPageHidden listens on the window when the document is not an event target", () => {
  const document = { visibilityState: "hidden" };
  const window = Object.assign(new EventTarget(), { document });
  let calls = 0;
  const stop = onPageHidden(() => calls++, window);
  window.dispatchEvent(new Event("visibilitychange"));
  assert.equal(calls, 1);
  stop!();
  window.dispatchEvent(new Event("visibilitychange"));
  assert.equal(calls, 1);
});

Deno.test("onPageHidden answers undefined without a window or without a document", () => {
  assert.equal(onPageHidden(() => {}, {}), undefined);
  assert.equal(onPageHidden(() => {}, new EventTarget()), undefined);
  assert.equal(onPageHidden(() => {}, { document: new EventTarget() }), undefined);
  // Deno's own global scope has events but no document
  assert.equal(onPageHidden(() => {}), undefined);
});

Deno.test("onGlobalErrors reports errors and rejections without cancelling them, until removed", () => {
  const target = new EventTarget();
  const seen: [unknown, CrashSource][] = [];
  const stop = onGlobalErrors((error, source) => seen.push([error, source]), target);
  const boom = new TypeError("boom");
  const error = new ErrorEvent("error", { error: boom, cancelable: true });
  target.dispatchEvent(error);
  assert.equal(error.defaultPrevented, false);
  target.dispatchEvent(new ErrorEvent("error", { message: "Script error." }));
  const rejection = new Event("unhandledrejection", { cancelable: true });
  Object.defineProperty(rejection, "reason", { value: "plain reason" });
  target.dispatchEvent(rejection);
  assert.equal(rejection.defaultPrevented, false);
  assert.deepEqual(seen, [
    [boom, "exception"],
    ["Script error.", "exception"],
    ["plain reason", "unhandled_rejection"],
  ]);
  stop!();
  target.dispatchEvent(new ErrorEvent("error", { error: new Error("later") }));
  assert.equal(seen.length, 3);
});

Deno.test("onGlobalErrors answers undefined where there are no global events", () => {
  assert.equal(onGlobalErrors(() => {}, {}), undefined);
  assert.equal(onGlobalErrors(() => {}, { addEventListener() {} }), undefined);
});
