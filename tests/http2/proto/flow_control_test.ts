/** Receive windows: data beyond the window is refused; window is granted back in batches. */

import { assertEquals } from "@std/assert";
import { growWindow, RecvWindow } from "../../../http2/proto/streams/flow_control.ts";

Deno.test("a receive window refuses data beyond it and leaves itself unchanged", () => {
  const w = new RecvWindow(100, 100);
  assertEquals(w.receive(60), true);
  assertEquals(w.receive(41), false);
  assertEquals(w.window, 40);
  assertEquals(w.receive(40), true);
  assertEquals(w.receive(1), false);
});

Deno.test("consumed bytes are granted back once half the window is consumed, all at once", () => {
  const w = new RecvWindow(65535, 65535);
  w.receive(65535);
  assertEquals(w.consume(16384), 0);
  assertEquals(w.consume(16383), 0);
  assertEquals(w.consume(1), 32768);
  assertEquals(w.window, 32768);
  assertEquals(w.consume(32767), 0);
  assertEquals(w.window, 32768);
  w.receive(1);
  assertEquals(w.consume(1), 32768);
  assertEquals(w.window, 65535);
});

Deno.test("a window of 1 grants every consumed byte back", () => {
  const w = new RecvWindow(1, 1);
  w.receive(1);
  assertEquals(w.consume(1), 1);
  assertEquals(w.window, 1);
});

Deno.test("send windows may not grow beyond 2^31-1, and may go negative", () => {
  assertEquals(growWindow(0x7fffffff - 10, 10), 0x7fffffff);
  assertEquals(growWindow(0x7fffffff - 10, 11), null);
  assertEquals(growWindow(100, -65535), -65435);
});
