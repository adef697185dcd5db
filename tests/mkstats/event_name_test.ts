import assert from "node:assert/strict";
import fc from "fast-check";
import { InvalidArgumentError } from "../../src/core/errors.ts";
import { MAX_EVENT_NAME_LENGTH, normalizeEventName } from "../../src/mkstats/event_name.ts";

const VALID = /^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$/;

const TABLE: [string, string][] = [
  ["feature_clicked", "feature_clicked"],
  ["Feature clicked!", "Feature_clicked"],
  ["  padded  ", "padded"],
  ["a  b\tc\nd", "a_b_c_d"],
  ["menu/open", "menu_open"],
  ["ns:event.v2-beta", "ns:event.v2-beta"],
  ["2fa_enabled", "_2fa_enabled"],
  [".hidden", "_.hidden"],
  ["-dash", "_-dash"],
  ["_private", "_private"],
  ["événement créé", "evenement_cree"],
  ["naïve café", "naive_cafe"],
  ["emoji 🎉 party", "emoji_party"],
  ["x".repeat(150), "x".repeat(100)],
  ["9" + "y".repeat(120), "_9" + "y".repeat(98)],
];

for (const [input, expected] of TABLE) {
  Deno.test(`normalizeEventName() turns ${JSON.stringify(input.slice(0, 24))} into a valid name`, () => {
    assert.equal(normalizeEventName(input), expected);
  });
}

Deno.test("normalizeEventName() throws InvalidArgumentError for names that normalise to nothing", () => {
  for (const input of ["", "   ", "!!!", "🎉", "/ / /"]) {
    assert.throws(
      () => normalizeEventName(input),
      InvalidArgumentError,
      `input ${JSON.stringify(input)}`,
    );
  }
  assert.throws(
    () => normalizeEventName("!!!"),
    {
      name: "InvalidArgumentError",
      argument: "event",
      message:
        `Cannot use the event name as 'event' must be a name with a letter, digit or one of _.:- (such as "feature_clicked"): current value is "!!!"`,
    },
  );
  assert.throws(() => normalizeEventName(42 as unknown as string), /'event' must be a string/);
});

Deno.test("normalizeEventName() yields a name the server accepts, or an InvalidArgumentError, for any string", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (input) => {
      let name: string;
      try {
        name = normalizeEventName(input);
      } catch (error) {
        return error instanceof InvalidArgumentError;
      }
      return VALID.test(name) && name.length <= MAX_EVENT_NAME_LENGTH &&
        normalizeEventName(name) === name;
    }),
    { numRuns: 2000 },
  );
});
