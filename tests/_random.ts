/**
 * A seeded pseudo-random source for the fuzz tests: the same seed gives the same cases on
 * every run and runtime, so a failure names its seed and case and can be replayed.
 * (mulberry32: 32 bits of state, good enough to pick cases, not for cryptography.)
 *
 * @module
 */

/**
 * A number from the environment (a fuzz test's `FUZZ_SEED`, say), or `null` when it is not
 * set or the test may not read the environment.
 */
export function knob(name: string): number | null {
  try {
    const value = Deno.env.get(name);
    return value ? Number(value) : null;
  } catch {
    return null; // no env permission
  }
}

/** The seed from `FUZZ_SEED`, if set (to run other cases than the fixed ones), else `fixed`. */
export function seedOr(fixed: number): number {
  return knob("FUZZ_SEED") ?? fixed;
}

/** A deterministic random source. */
export class Random {
  #state: number;

  /** @param seed Any 32-bit integer. */
  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  /**
   * A copy of `input` with a few random edits: bytes flipped, inserted, deleted, or a
   * run duplicated, as a mutation fuzzer makes them.
   *
   * @param input The valid message to start from.
   * @param edits How many edits (default 1-4).
   */
  mutate(input: Uint8Array, edits: number = 1 + this.int(4)): Uint8Array {
    let out = Array.from(input);
    for (let e = 0; e < edits; e++) {
      const at = this.int(out.length + 1);
      switch (this.int(4)) {
        case 0: // flip a byte
          if (at < out.length) out[at] = this.int(256);
          break;
        case 1: // insert a byte
          out.splice(at, 0, this.int(256));
          break;
        case 2: // delete a run
          out.splice(at, 1 + this.int(8));
          break;
        default: { // duplicate a run
          const run = out.slice(at, at + 1 + this.int(16));
          out = [...out.slice(0, at), ...run, ...out.slice(at)];
        }
      }
    }
    return Uint8Array.from(out);
  }

  /** Splits `bytes` into 1-4 pieces at random points (to cross read boundaries). */
  split(bytes: Uint8Array): Uint8Array[] {
    const cuts = new Set<number>();
    const n = this.int(4);
    for (let i = 0; i < n && bytes.length > 1; i++) cuts.add(1 + this.int(bytes.length - 1));
    const points = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
    const out: Uint8Array[] = [];
    for (let i = 0; i + 1 < points.length; i++) out.push(bytes.subarray(points[i], points[i + 1]));
    return out;
  }
}
