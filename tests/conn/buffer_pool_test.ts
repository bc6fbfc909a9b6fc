/** The pool of reusable buffers for bytes in flight (`conn/_buffer_pool.ts`). */

import { assert, assertEquals } from "@std/assert";
import { BufferPool } from "../../conn/_buffer_pool.ts";

const KiB = 1024;

Deno.test("a buffer pool lends power-of-two buffers of at least 16 KiB", () => {
  const pool = new BufferPool(1024 * KiB, 256 * KiB);
  assertEquals(pool.take(1).length, 16 * KiB);
  assertEquals(pool.take(16 * KiB).length, 16 * KiB);
  assertEquals(pool.take(16 * KiB + 1).length, 32 * KiB);
  assertEquals(pool.take(65_540).length, 128 * KiB);
});

Deno.test("a buffer given back is lent again for a request of its size class", () => {
  const pool = new BufferPool(1024 * KiB, 256 * KiB);
  const a = pool.take(100 * KiB);
  pool.give(a);
  assertEquals(pool.bytes, 128 * KiB);
  assert(pool.take(70 * KiB) === a, "the same buffer, not a fresh one");
  assertEquals(pool.bytes, 0);
  assert(pool.take(70 * KiB) !== a, "lent once at a time");
});

Deno.test("a buffer pool keeps no more than its byte budget", () => {
  const pool = new BufferPool(64 * KiB, 64 * KiB);
  const [a, b, c] = [pool.take(32 * KiB), pool.take(32 * KiB), pool.take(32 * KiB)];
  pool.give(a);
  pool.give(b);
  pool.give(c); // over the budget: left to the garbage collector
  assertEquals(pool.bytes, 64 * KiB);
  const again = [pool.take(32 * KiB), pool.take(32 * KiB), pool.take(32 * KiB)];
  assert(again.includes(a) && again.includes(b), "the two that fit were kept");
  assert(!again.includes(c), "the third was not");
});

Deno.test("a buffer pool does not keep buffers above its largest size, nor ones it did not make", () => {
  const pool = new BufferPool(8 * 1024 * KiB, 256 * KiB);
  const big = pool.take(300 * KiB);
  assertEquals(big.length, 300 * KiB, "above the largest kept size: the exact size");
  pool.give(big);
  pool.give(new Uint8Array(20 * KiB)); // not a size class
  assertEquals(pool.bytes, 0);
});
