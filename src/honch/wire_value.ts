/**
 * The typed values a Honch wire-v2 message carries ({@linkcode WireValue}),
 * the conversion from ordinary JavaScript values ({@linkcode toWireValue}) and
 * the JSON rendering capture uses when it expands events
 * ({@linkcode wireValueToJson}).
 *
 * @module
 */

/**
 * One typed value of the compact wire format. `uint` and `int` hold a number
 * while the value is a safe integer and a bigint beyond that (64 bits at most);
 * `float32` holds the number the 4-byte float stands for.
 */
export type WireValue =
  | { type: "null" }
  | { type: "bool"; value: boolean }
  | { type: "uint" | "int"; value: number | bigint }
  | { type: "float32" | "float64"; value: number }
  | { type: "string"; value: string }
  | { type: "bytes"; value: Uint8Array }
  | { type: "array"; items: WireValue[] }
  | { type: "map"; entries: { key: string; value: WireValue }[] };

/** Options of {@linkcode toWireValue}. */
export interface ToWireValueOptions {
  /**
   * The path of the value, used in error messages, such as `properties.items`.
   *
   * @default "value"
   */
  path?: string;
}

const MAX_DEPTH = 8;
const MAX_U64 = 0xffff_ffff_ffff_ffffn;
const MIN_I64 = -0x8000_0000_0000_0000n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Converts an ordinary JavaScript value into a {@linkcode WireValue}, choosing
 * the smallest type that keeps it: safe integers become `uint` (>= 0) or `int`,
 * other finite numbers `float64`, bigints `uint`/`int` (kept as numbers when
 * safe), `undefined` becomes `null`, a `Uint8Array` becomes `bytes`, a valid
 * `Date` its ISO 8601 string, arrays `array` (holes are `null`) and plain
 * objects `map` in insertion order.
 *
 * @param value The value to convert.
 * @param options The path named in error messages.
 * @returns The typed value.
 * @throws {TypeError} When the value (or anything inside it) is NaN or infinite, a bigint outside
 * 64 bits, a function, a symbol, an invalid Date, an object that is not plain, part of a cycle, or
 * nested in more than 8 arrays or maps. The message names the path, such as `properties.items[2].x`.
 * @example
 * ```ts
 * import { toWireValue } from "@edgewire/sdk/honch";
 *
 * const value = toWireValue({ mode: "auto", samples: 3, ratio: 0.5 });
 * console.log(value.type); // "map"
 * ```
 */
export function toWireValue(value: unknown, options: ToWireValueOptions = {}): WireValue {
  return convert(value, options.path ?? "value", []);
}

function convert(value: unknown, path: string, ancestors: object[]): WireValue {
  switch (typeof value) {
    case "number":
      if (Number.isSafeInteger(value)) {
        return { type: value >= 0 ? "uint" : "int", value: value === 0 ? 0 : value };
      }
      if (!Number.isFinite(value)) {
        throw refuse(path, `${value} is not allowed`, "pass a finite number or null");
      }
      return { type: "float64", value };
    case "bigint":
      if (value < MIN_I64 || value > MAX_U64) {
        throw refuse(path, `${value} is outside 64 bits`, "pass a value in -2^63..2^64-1");
      }
      return {
        type: value >= 0n ? "uint" : "int",
        value: value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value,
      };
    case "boolean":
      return { type: "bool", value };
    case "string":
      return { type: "string", value };
    case "undefined":
      return { type: "null" };
    case "function":
    case "symbol":
      throw refuse(path, `a ${typeof value} is not a value`, "pass data, not code");
  }
  if (value === null) return { type: "null" };
  const object = value as object;
  if (object instanceof Uint8Array) return { type: "bytes", value: object };
  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) {
      throw refuse(path, "an invalid Date has no time", "pass a valid Date or null");
    }
    return { type: "string", value: object.toISOString() };
  }
  if (ancestors.includes(object)) {
    throw refuse(path, "the value contains itself", "remove the cycle");
  }
  if (ancestors.length >= MAX_DEPTH) {
    throw refuse(
      path,
      `arrays and maps nest deeper than ${MAX_DEPTH} levels`,
      "flatten the value",
    );
  }
  ancestors.push(object);
  let result: WireValue;
  if (Array.isArray(object)) {
    const items: WireValue[] = new Array(object.length);
    for (let index = 0; index < object.length; index++) {
      items[index] = convert(object[index], `${path}[${index}]`, ancestors);
    }
    result = { type: "array", items };
  } else {
    const prototype = Object.getPrototypeOf(object);
    if (prototype !== Object.prototype && prototype !== null) {
      const name = (object.constructor as { name?: string } | undefined)?.name ?? "object";
      throw refuse(
        path,
        `a ${name} is not a plain object`,
        "convert it to a plain object, an array or a string",
      );
    }
    const entries: { key: string; value: WireValue }[] = [];
    for (const key of Object.keys(object)) {
      entries.push({
        key,
        value: convert((object as Record<string, unknown>)[key], `${path}.${key}`, ancestors),
      });
    }
    result = { type: "map", entries };
  }
  ancestors.pop();
  return result;
}

function refuse(path: string, problem: string, fix: string): TypeError {
  return new TypeError(`Cannot encode '${path}' as ${problem}: ${fix}`);
}

/**
 * Renders a {@linkcode WireValue} as the JSON value capture stores for it:
 * numbers stay numbers (a 64-bit integer beyond the safe range becomes its
 * decimal string), `float32` becomes the number it stands for, `bytes` a
 * base64 string, arrays arrays and maps objects.
 *
 * @param value The typed value.
 * @returns A value `JSON.stringify` can write.
 * @example
 * ```ts
 * import { wireValueToJson } from "@edgewire/sdk/honch";
 *
 * const json = wireValueToJson({ type: "array", items: [{ type: "string", value: "hdr" }] });
 * console.log(json); // ["hdr"]
 * ```
 */
export function wireValueToJson(value: WireValue): unknown {
  switch (value.type) {
    case "null":
      return null;
    case "bool":
    case "string":
    case "float32":
    case "float64":
      return value.value;
    case "uint":
    case "int":
      return typeof value.value === "bigint" ? value.value.toString() : value.value;
    case "bytes": {
      let binary = "";
      for (let index = 0; index < value.value.length; index++) {
        binary += String.fromCharCode(value.value[index]);
      }
      return btoa(binary);
    }
    case "array":
      return value.items.map(wireValueToJson);
    case "map": {
      const object: Record<string, unknown> = {};
      for (const entry of value.entries) {
        setJsonProperty(object, entry.key, wireValueToJson(entry.value));
      }
      return object;
    }
  }
}

/**
 * Sets `object[key]`, adding an own `__proto__` key instead of changing the
 * prototype as plain assignment would.
 *
 * @param object The object to write to.
 * @param key The key.
 * @param value The value.
 */
export function setJsonProperty(
  object: Record<string, unknown>,
  key: string,
  value: unknown,
): void {
  if (key === "__proto__") {
    Object.defineProperty(object, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    object[key] = value;
  }
}
