/**
 * The usage aggregates both migas stores keep at ingest, so `get_usage` never
 * scans breadcrumbs: per project and UTC day a hit count and a HyperLogLog
 * sketch of the user ids seen (1,024 one-byte registers, about 3% standard
 * error, exact in practice for a few dozen users). Sketches of several days
 * merge by taking the larger register, so a range costs one pass per day.
 *
 * @module
 */

/** One UTC day, in milliseconds. */
export const DAY_MS = 86_400_000;
/** How many registers a sketch holds; its size in bytes. */
export const SKETCH_BYTES = 1024;
const ALPHA = 0.7213 / (1 + 1.079 / SKETCH_BYTES);

/**
 * The UTC day a timestamp falls in, as days since the epoch.
 *
 * @param timestamp Milliseconds since the epoch.
 * @returns The day number.
 */
export function dayOf(timestamp: number): number {
  return Math.floor(timestamp / DAY_MS);
}

function mix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/**
 * Where a user id lands in a sketch: its register and the rank to keep there.
 *
 * @param userId The user id.
 * @returns The register index and the rank (1..33).
 */
export function sketchSlot(userId: string): { index: number; rank: number } {
  // Two FNV-1a passes with different seeds, each finalised by MurmurHash3's mixer.
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < userId.length; i++) {
    const code = userId.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x01000193);
  }
  const index = mix(a) & (SKETCH_BYTES - 1);
  const rest = mix(b ^ 0x9e3779b9);
  return { index, rank: Math.clz32(rest) + 1 };
}

/**
 * Records a user id in a sketch.
 *
 * @param sketch The registers, changed in place.
 * @param userId The user id.
 * @returns Whether a register changed (the sketch must be written back).
 */
export function sketchAdd(sketch: Uint8Array, userId: string): boolean {
  const { index, rank } = sketchSlot(userId);
  if (sketch[index] >= rank) return false;
  sketch[index] = rank;
  return true;
}

/**
 * Folds one sketch into another, register by register.
 *
 * @param into The union, changed in place.
 * @param from The sketch to add.
 */
export function sketchMerge(into: Uint8Array, from: Uint8Array): void {
  for (let i = 0; i < SKETCH_BYTES; i++) if (from[i] > into[i]) into[i] = from[i];
}

/**
 * Estimates how many distinct user ids a sketch has seen.
 *
 * @param sketch The registers.
 * @returns The estimate, rounded.
 */
export function sketchCount(sketch: Uint8Array): number {
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < SKETCH_BYTES; i++) {
    sum += 2 ** -sketch[i];
    if (sketch[i] === 0) zeros++;
  }
  const raw = (ALPHA * SKETCH_BYTES * SKETCH_BYTES) / sum;
  // Linear counting is far more accurate while many registers are still empty.
  if (raw <= 2.5 * SKETCH_BYTES && zeros > 0) {
    return Math.round(SKETCH_BYTES * Math.log(SKETCH_BYTES / zeros));
  }
  return Math.round(raw);
}
