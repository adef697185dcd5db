/**
 * A forgiving version order for update notices: a leading `v` is ignored,
 * numeric parts compare as numbers, and a pre-release sorts before its
 * release. Good enough to say "newer", not a semver implementation.
 *
 * @module
 */

function parts(version: string): { core: (number | string)[]; pre: string } {
  const text = version.trim().replace(/^v/i, "");
  const dash = text.search(/[-+]/);
  const core = (dash === -1 ? text : text.slice(0, dash)).split(".");
  const pre = dash !== -1 && text[dash] === "-" ? text.slice(dash + 1) : "";
  return { core: core.map((part) => (/^\d+$/.test(part) ? Number(part) : part)), pre };
}

/** Negative when `a` is older than `b`, positive when newer, 0 when equal. */
export function compareVersions(a: string, b: string): number {
  const left = parts(a);
  const right = parts(b);
  const length = Math.max(left.core.length, right.core.length);
  for (let i = 0; i < length; i++) {
    const x = left.core[i] ?? 0;
    const y = right.core[i] ?? 0;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  if (left.pre === right.pre) return 0;
  if (left.pre === "") return 1;
  if (right.pre === "") return -1;
  return left.pre < right.pre ? -1 : 1;
}
