import type { Deadline, Deadlines } from "./_deadlines.ts";

/**
 * Watches the writes of an HTTP/1.1 connection's responses: while any is waiting, one must
 * complete within `ms` (each completion is progress), or `stalled` runs. A client that takes
 * no bytes (a slow-read attack, or one gone without a word) stalls every write; without
 * this, the exchange and its buffers would be held for ever. Made once per connection.
 */
export class WriteWatch {
  #pending = 0;
  readonly #deadline: Deadline;

  /**
   * @param deadlines The server's shared deadlines.
   * @param ms How long writes may wait without one completing.
   * @param stalled What to do then (close the connection).
   */
  constructor(
    private readonly deadlines: Deadlines,
    private readonly ms: number,
    stalled: () => void,
  ) {
    this.#deadline = { at: 0, queued: false, expire: stalled };
  }

  /** A write starts: the clock runs from now, unless an earlier write's already does. */
  started(): void {
    if (this.#pending++ === 0) this.deadlines.arm(this.#deadline, this.ms);
  }

  /** A write completed or failed: the clock starts again for those still waiting. */
  settled = (): void => {
    if (--this.#pending === 0) this.deadlines.disarm(this.#deadline);
    else this.deadlines.arm(this.#deadline, this.ms);
  };
}
