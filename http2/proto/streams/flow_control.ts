/**
 * Flow-control windows (RFC 9113 section 5.2, 6.9). What we may send is a plain number on
 * each stream and on the connection; what the peer may send is a {@linkcode RecvWindow},
 * which also decides when to grant window back: only as the application consumes data,
 * and in batches (half of the configured window), so that a reader that stops reading
 * stops the sender.
 *
 * @module
 */

import { MAX_WINDOW_SIZE } from "../../settings.ts";

/**
 * Adds a WINDOW_UPDATE increment (or a SETTINGS_INITIAL_WINDOW_SIZE delta) to a send window.
 *
 * @param window The current window (may be negative).
 * @param increment What to add.
 * @returns The new window, or `null` when it would exceed 2^31-1 (a FLOW_CONTROL_ERROR).
 */
export function growWindow(window: number, increment: number): number | null {
  const next = window + increment;
  return next > MAX_WINDOW_SIZE ? null : next;
}

/**
 * The receive side of a window: how much the peer may still send, and how much the
 * application has consumed that was not yet granted back.
 *
 * @example
 * ```ts
 * import { RecvWindow } from "./flow_control.ts";
 *
 * const w = new RecvWindow(65535, 65535);
 * w.receive(40000); // true: within the window
 * w.consume(20000); // 0: not yet half of the window
 * w.consume(20000); // 40000: send WINDOW_UPDATE(40000)
 * ```
 */
export class RecvWindow {
  /** How much the peer may still send (as the peer sees it once it has our updates). */
  window: number;
  /** Consumed bytes not yet granted back. */
  unacked = 0;
  /** The configured window size: the window is refilled up to it. */
  target: number;

  /**
   * @param initial The window the peer starts with.
   * @param target The window to keep granting up to.
   */
  constructor(initial: number, target: number) {
    this.window = initial;
    this.target = target;
  }

  /**
   * Accounts for received flow-controlled bytes.
   *
   * @param n The frame's flow-controlled length.
   * @returns `false` when `n` exceeds the window (a FLOW_CONTROL_ERROR); nothing changes then.
   */
  receive(n: number): boolean {
    if (n > this.window) return false;
    this.window -= n;
    return true;
  }

  /**
   * Accounts for bytes the application consumed (or that were discarded).
   *
   * @param n The bytes.
   * @returns The increment to send in a WINDOW_UPDATE now, or 0 to wait for more.
   */
  consume(n: number): number {
    this.unacked += n;
    const u = this.unacked;
    if (u === 0 || u < this.target / 2) return 0;
    if (this.window + u > MAX_WINDOW_SIZE) return 0;
    this.unacked = 0;
    this.window += u;
    return u;
  }
}
