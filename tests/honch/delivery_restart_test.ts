/**
 * The rule that a Honch batch keeps its bytes and message id until capture
 * settles it: restarts after a 409, resumes after a failure, collisions and
 * abandoned batches.
 *
 * @module
 */

import assert from "node:assert/strict";
import { decodeFrame, encodeFrames } from "../../src/honch/frames.ts";
import { decodeMessage, encodeMessage } from "../../src/honch/wire_v2.ts";
import { accept, batchOf, event, harness, messageOf, SEED, status } from "./_delivery_harness.ts";

Deno.test("a 409 in the middle of an upload restarts it from offset 0 with the same message id", async () => {
  let conflicts = 1;
  const { delivery, sent, clock, queue } = harness((request, index) => {
    if (index === 1 && conflicts-- > 0) return status(409);
    return accept(request, index);
  }, { maxFrameBytes: 64 });
  const events = [event({ properties: { note: "n".repeat(150) } })];
  queue.items.push(...events);
  const step = await delivery.step();
  assert.equal(step.kind === "retry" && step.status, 409);
  clock.now += delivery.backoffRemainingMs();
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 1 });
  const total = encodeFrames(encodeMessage(batchOf(events)), {
    messageId: SEED,
    maxFrameBytes: 64,
  });
  assert.ok(total.length >= 3);
  // Two frames of the first attempt, then every frame again from the init frame.
  assert.deepEqual(sent.map((s) => s.body), [total[0], total[1], ...total]);
  const frames = sent.map((s) => decodeFrame(s.body));
  assert.ok(frames.every((f) => f.messageId === SEED));
});

Deno.test("a retryable failure mid-upload resumes from the failed frame", async () => {
  let failures = 1;
  const { delivery, sent, clock, queue } = harness((request, index) => {
    if (index === 1 && failures-- > 0) return status(503);
    return accept(request, index);
  }, { maxFrameBytes: 64 });
  queue.items.push(event({ properties: { note: "n".repeat(150) } }));
  assert.equal((await delivery.step()).kind, "retry");
  clock.now += delivery.backoffRemainingMs();
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 1 });
  const offsets = sent.map((s) => decodeFrame(s.body).offset);
  assert.equal(offsets[2], offsets[1]);
  assert.equal(offsets.filter((o) => o === 0).length, 1);
});

Deno.test("a batch keeps its bytes and message id through retries; events queued meanwhile go to the next batch", async () => {
  let fail = 2;
  const { delivery, sent, clock, queue } = harness((request, index) =>
    fail-- > 0 ? status(503) : accept(request, index)
  );
  queue.items.push(event({ name: "old" }), event());
  for (let attempt = 0; attempt < 2; attempt++) {
    assert.equal((await delivery.step()).kind, "retry");
    queue.items.push(event({ name: `late${attempt}` }));
    clock.now += delivery.backoffRemainingMs();
  }
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 2 });
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 2 });
  assert.deepEqual(sent[0].body, sent[1].body);
  assert.deepEqual(sent[0].body, sent[2].body);
  assert.deepEqual(sent.map((s) => decodeFrame(s.body).messageId), [SEED, SEED, SEED, SEED + 1]);
  const names = sent.map((s) => decodeMessage(messageOf([s.body])).events.map((e) => e.name));
  assert.deepEqual(names.at(-1), ["late0", "late1"]);
});

Deno.test("a 409 message_collision sends the same bytes again under the next message id", async () => {
  let collide = true;
  const { delivery, sent, clock, queue } = harness((request, index) => {
    if (!collide) return accept(request, index);
    collide = false;
    return new Response('{"error":"message_collision"}', {
      status: 409,
      headers: { "content-type": "application/json" },
    });
  });
  queue.items.push(event());
  const step = await delivery.step();
  assert.equal(step.kind === "retry" && step.status, 409);
  clock.now += delivery.backoffRemainingMs();
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 1 });
  const frames = sent.map((s) => decodeFrame(s.body));
  assert.deepEqual(frames.map((f) => f.messageId), [SEED, SEED + 1]);
  assert.deepEqual(frames[0].payload, frames[1].payload);
});

Deno.test("a pending batch whose events left the queue is abandoned, not sent", async () => {
  let fail = true;
  const { delivery, sent, clock, queue } = harness((request, index) =>
    fail ? status(503) : accept(request, index)
  );
  queue.items.push(event({ name: "forgotten" }));
  assert.equal((await delivery.step()).kind, "retry");
  // What reset() does to the client's queue
  queue.items = [event({ name: "after_reset" })];
  clock.now += delivery.backoffRemainingMs();
  fail = false;
  assert.deepEqual(await delivery.step(), { kind: "sent", events: 1 });
  assert.equal(sent.length, 2);
  const last = decodeMessage(messageOf([sent[1].body]));
  assert.deepEqual(last.events.map((e) => e.name), ["after_reset"]);
  assert.equal(decodeFrame(sent[1].body).messageId, SEED + 1);
  assert.deepEqual(queue.items, []);
  assert.deepEqual(queue.dropped, {});
});
