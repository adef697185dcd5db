/**
 * Shared harness of the {@linkcode HonchClient} unit tests: a client on an
 * in-memory capture endpoint reached through the `transport` option, with an
 * injected clock and fake globals.
 *
 * @module
 */

import { HonchClient } from "../../src/honch/client.ts";
import type { HonchClientOptions } from "../../src/honch/options.ts";
import { FakeCapture } from "./_fake_capture.ts";

export interface Harness {
  client: HonchClient;
  capture: FakeCapture;
  clock: { now: number };
  names: () => string[];
}

export function harness(
  options: Partial<HonchClientOptions> = {},
  globals: object = {},
): Harness {
  const clock = { now: 1_700_000_000_000 };
  const capture = new FakeCapture();
  let seed = 1;
  const client = new HonchClient({
    apiKey: "test-key",
    endpoint: "http://capture.test",
    deviceId: "dev_fixture",
    deviceModel: "FixtureBoard",
    firmwareVersion: "1.2.3",
    now: () => clock.now,
    random: () => (seed = (seed * 16807) % 2147483647) / 2147483647,
    transport: capture.transport,
    globals,
    ...options,
  });
  return { client, capture, clock, names: () => capture.names() };
}

/** Lets the uploads a page or crash event started run to their end. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export const base = {
  apiKey: "k",
  deviceId: "d",
  deviceModel: "m",
  firmwareVersion: "1",
  endpoint: "http://capture.test",
};
