/**
 * The MQTT codec against npm `mqtt-packet` (the codec of MQTT.js and so of
 * the official Emitter JS SDK) in one run: encode and decode rate of a
 * typical Emitter PUBLISH (topic `KEY/channel/` with a 32-character key, a
 * 100-byte payload, QoS 0). `deno bench -A bench/mqtt_codec_bench.ts`; the
 * ratio against mqtt-packet is the figure.
 *
 * Bytes allocated per message are printed at start-up: the growth of V8's
 * heap plus its external (ArrayBuffer) memory over 2,000 messages, the
 * median of 15 rounds. Garbage collection cannot be forced from a bench, so
 * a round in which it ran shows less; the median keeps those out.
 *
 * @module
 */

import { Buffer } from "node:buffer";
// Named here rather than in deno.json: only this bench and one test need the
// reference codec
// deno-lint-ignore no-import-prefix
import mqttPacket from "npm:mqtt-packet@^9";
import {
  encodePacket,
  MqttDecoder,
  type MqttPacket,
  type MqttPublishPacket,
} from "../src/emitter/mqtt/mod.ts";

const TOPIC = "IsQ7z6x3ZbnEsBH1ZbnEsBH1IsQ7z6x3/sensors/room1/";
const PAYLOAD = new Uint8Array(100).map((_, i) => 32 + (i % 90));
const ours: MqttPublishPacket = {
  type: "publish",
  topic: TOPIC,
  payload: PAYLOAD,
  qos: 0,
  retain: false,
  dup: false,
};
const theirs = {
  cmd: "publish" as const,
  topic: TOPIC,
  payload: Buffer.from(PAYLOAD),
  qos: 0 as const,
  retain: false,
  dup: false,
};
const bytes = encodePacket(ours);
const buffer = Buffer.from(bytes);

// One decoder and one output array per side, as a connection keeps them
const decoder = new MqttDecoder();
const out: MqttPacket[] = [];
const parser = mqttPacket.parser({ protocolVersion: 4 });
let parsed = 0;
parser.on("packet", () => parsed++);

function decodeOurs(): void {
  out.length = 0;
  decoder.push(bytes, out);
  if (out.length !== 1) throw new Error("Cannot decode the bench packet");
}

function decodeTheirs(): void {
  parser.parse(buffer);
}

/** Median bytes of heap plus external memory one call of `run` leaves allocated. */
function bytesPerMessage(run: () => unknown): number {
  const rounds: number[] = [];
  for (let i = 0; i < 200; i++) run(); // warm up
  for (let round = 0; round < 15; round++) {
    const before = Deno.memoryUsage();
    for (let i = 0; i < 2000; i++) run();
    const after = Deno.memoryUsage();
    rounds.push(
      (after.heapUsed - before.heapUsed + after.external - before.external) / 2000,
    );
  }
  rounds.sort((a, b) => a - b);
  return Math.round(rounds[7]);
}

console.log(
  `${bytes.length}-byte PUBLISH, bytes allocated per message (median of 15 rounds of 2000): ` +
    `encode ours ${bytesPerMessage(() => encodePacket(ours))}, mqtt-packet ${
      bytesPerMessage(() => mqttPacket.generate(theirs))
    }; decode ours ${bytesPerMessage(decodeOurs)}, mqtt-packet ${bytesPerMessage(decodeTheirs)}`,
);

Deno.bench({ name: "mqtt-packet generate, PUBLISH", group: "encode", baseline: true }, () => {
  mqttPacket.generate(theirs);
});
Deno.bench({ name: "encodePacket, PUBLISH", group: "encode" }, () => {
  encodePacket(ours);
});

Deno.bench({ name: "mqtt-packet parser.parse, PUBLISH", group: "decode", baseline: true }, () => {
  decodeTheirs();
});
Deno.bench({ name: "MqttDecoder.push, PUBLISH", group: "decode" }, () => {
  decodeOurs();
});
