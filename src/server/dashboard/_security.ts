/**
 * The headers every dashboard answer carries, and the check that a login or
 * logout POST comes from the dashboard's own pages. The policy lets a page
 * load nothing but the server's stylesheet and `data:` images, run no script
 * at all, submit forms only to the server and never be framed; answers are
 * never cached, and send a referrer to the same origin only (with `no-referrer` a
 * browser would send `Origin: null` on the form POSTs, which the check refuses).
 *
 * @module
 */

/** The dashboard's Content Security Policy. */
export const DASHBOARD_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'";

/** The headers set on every dashboard answer, errors included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

/**
 * Whether a POST comes from the dashboard's own origin. A browser sends
 * `Origin` with every form POST (and `Sec-Fetch-Site`); either naming
 * another site refuses it. A request with neither comes from no browser,
 * so it cannot ride on a signed-in user's cookie (which `SameSite=Strict`
 * keeps from other sites anyway). The host is compared, not the scheme, so a
 * proxy that ends TLS in front of the server does not refuse its own pages.
 *
 * @param request The POST.
 * @returns Whether to accept it.
 */
export function sameOrigin(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return false;
  const origin = request.headers.get("origin");
  if (origin === null) return true;
  if (origin === "null") return false;
  try {
    return new URL(origin).host === new URL(request.url).host;
  } catch {
    return false;
  }
}
