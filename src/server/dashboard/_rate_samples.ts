/**
 * Message rates for the Emitter page, from the broker's monotonic counters:
 * each view of the page takes a sample (time, messages in, messages out),
 * and the rate between two samples is their difference over the time
 * between them. No timer runs, so nothing keeps a process or a Worker busy;
 * the last 60 samples are kept.
 *
 * @module
 */

/** One reading of the broker's counters. */
export interface RateSample {
  /** When, in milliseconds. */
  readonly time: number;
  /** PUBLISH packets received so far. */
  readonly messagesIn: number;
  /** Messages delivered so far. */
  readonly messagesOut: number;
}

/** A rate between two samples. */
export interface Rate {
  /** When the later sample was taken, in milliseconds. */
  readonly time: number;
  /** Messages received per second. */
  readonly inPerSecond: number;
  /** Messages delivered per second. */
  readonly outPerSecond: number;
}

const MAX_SAMPLES = 60;

/** The samples of one server's Emitter counters. */
export class RateSamples {
  readonly #samples: RateSample[] = [];

  /**
   * Adds a sample; one taken at the same time as the last replaces it.
   *
   * @param sample The counters now.
   */
  add(sample: RateSample): void {
    const last = this.#samples[this.#samples.length - 1];
    // A broker made again (after close) restarts its counters: earlier samples no longer compare.
    if (
      last !== undefined &&
      (sample.messagesIn < last.messagesIn || sample.messagesOut < last.messagesOut)
    ) {
      this.#samples.length = 0;
    }
    if (last !== undefined && last.time === sample.time) this.#samples.pop();
    this.#samples.push(sample);
    if (this.#samples.length > MAX_SAMPLES) this.#samples.shift();
  }

  /**
   * The rate between each sample and the one before.
   *
   * @returns The rates, oldest first; empty until two samples were taken.
   */
  rates(): Rate[] {
    const rates: Rate[] = [];
    for (let i = 1; i < this.#samples.length; i++) {
      const before = this.#samples[i - 1];
      const after = this.#samples[i];
      const seconds = (after.time - before.time) / 1000;
      if (seconds <= 0) continue;
      rates.push({
        time: after.time,
        inPerSecond: (after.messagesIn - before.messagesIn) / seconds,
        outPerSecond: (after.messagesOut - before.messagesOut) / seconds,
      });
    }
    return rates;
  }
}
