import { unrefTimer } from "../client/_ref.ts";

/** One deadline: `expire` runs once when `at` (a `Date.now()` time) has passed. */
export interface Deadline {
  at: number;
  expire: () => void;
  /**
   * Whether it is in a {@linkcode Deadlines}' set, where a disarmed one stays until the next
   * check (start it `false`): re-arming it then costs no set insertion.
   */
  queued: boolean;
}

/**
 * A coarse timer shared by every connection of a server: one interval checks all armed
 * deadlines, so arming and disarming per request costs a field write, not a timer.
 */
export class Deadlines {
  #armed = new Set<Deadline>();
  #timer: ReturnType<typeof setInterval> | null = null;

  /** @param tick How often deadlines are checked, in milliseconds. */
  constructor(private readonly tick: number) {}

  /** Arms `deadline` to expire `ms` from now (0 or less, or Infinity, disarms it). */
  arm(deadline: Deadline, ms: number): void {
    if (!(ms > 0) || ms === Infinity) return this.disarm(deadline);
    deadline.at = Date.now() + ms;
    if (!deadline.queued) {
      deadline.queued = true;
      this.#armed.add(deadline);
    }
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#check(), this.tick);
      unrefTimer(this.#timer); // do not keep a process alive just for deadlines
    }
  }

  /**
   * Disarms `deadline`. It stays in the set until the next check (a connection disarms and
   * re-arms its deadline on every request: a field write is cheaper than a delete and an add).
   */
  disarm(deadline: Deadline): void {
    deadline.at = Infinity;
  }

  #check(): void {
    const now = Date.now();
    for (const d of this.#armed) {
      if (d.at === Infinity) this.#drop(d);
      else if (d.at <= now) {
        this.#drop(d);
        d.expire();
      }
    }
    if (this.#armed.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #drop(deadline: Deadline): void {
    deadline.queued = false;
    this.#armed.delete(deadline);
  }

  /** Stops the timer; armed deadlines never expire. */
  stop(): void {
    for (const d of this.#armed) d.queued = false;
    this.#armed.clear();
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }
}
