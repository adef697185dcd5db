/**
 * Runs callbacks once the current turn of the event loop is done, all on one
 * zero-delay timer, and counts the connections written in a turn: a transport writes a
 * connection's bytes as soon as the task sending them is done, which keeps a
 * quiet connection's latency, but in a busy turn (a message fanned out to
 * many connections) it leaves the later connections' bytes for the turn's
 * end, so more of them go out in one write, with one timer for all of them.
 * Internal.
 *
 * @module
 */

let pending: (() => void)[] = [];
let spare: (() => void)[] = [];
let scheduled = false;
let turn = 0;
let writers = 0;

/** Connections written in one turn past which the turn counts as busy. */
export const BUSY_WRITERS = 4;

/** What {@linkcode busyTurn} keeps per connection. */
export interface TurnWriter {
  /** The last turn this connection was counted in. */
  turn: number;
}

function runPending(): void {
  scheduled = false;
  turn++;
  writers = 0;
  const due = pending;
  pending = spare;
  spare = due;
  for (let i = 0; i < due.length; i++) {
    try {
      due[i]();
    } catch {
      // One connection's failure must not keep the others' bytes back
    }
  }
  due.length = 0;
}

/**
 * Schedules `callback` to run after the current turn of the event loop, with
 * every other callback scheduled in it, in the order they were scheduled. A
 * callback scheduled while they run waits for the next turn.
 *
 * @param callback What to run; it should not throw (a throw is swallowed).
 * @returns Nothing.
 * @throws Never.
 *
 * @example
 * ```ts
 * import { afterTurn } from "./_after_turn.ts";
 *
 * const order: string[] = [];
 * afterTurn(() => order.push("later"));
 * order.push("now");
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * console.log(order); // ["now", "later"]
 * ```
 */
export function afterTurn(callback: () => void): void {
  pending.push(callback);
  if (scheduled) return;
  scheduled = true;
  setTimeout(runPending, 0);
}

/**
 * Counts a connection written in the current turn of the event loop (once
 * per turn) and tells whether the turn is busy: past
 * {@linkcode BUSY_WRITERS} connections, a transport leaves the rest of the
 * turn's bytes for its end rather than writing them at once.
 *
 * @param writer The connection's counter, `{ turn: -1 }` to begin with.
 * @returns Whether more than {@linkcode BUSY_WRITERS} connections were written in this turn.
 * @throws Never.
 *
 * @example
 * ```ts
 * import { BUSY_WRITERS, busyTurn } from "./_after_turn.ts";
 *
 * let busy = false;
 * for (let i = 0; i <= BUSY_WRITERS; i++) busy = busyTurn({ turn: -1 });
 * console.log(busy); // true
 * ```
 */
export function busyTurn(writer: TurnWriter): boolean {
  if (!scheduled) {
    scheduled = true;
    setTimeout(runPending, 0);
  }
  if (writer.turn !== turn) {
    writer.turn = turn;
    writers++;
  }
  return writers > BUSY_WRITERS;
}
