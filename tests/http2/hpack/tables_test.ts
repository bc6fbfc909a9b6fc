// The static table and its lookups, and the dynamic table's ring buffer.

import { assertEquals } from "@std/assert";
import { DynamicTable } from "../../../http2/hpack/_dynamic_table.ts";
import {
  STATIC_NAMES,
  STATIC_TABLE_LENGTH,
  STATIC_VALUES,
  staticFieldIndex,
  staticNameIndex,
} from "../../../http2/hpack/_static_table.ts";

Deno.test("static table has the 61 entries of RFC 7541 Appendix A", () => {
  assertEquals(STATIC_TABLE_LENGTH, 61);
  assertEquals(STATIC_NAMES.length, 62);
  assertEquals([STATIC_NAMES[1], STATIC_VALUES[1]], [":authority", ""]);
  assertEquals([STATIC_NAMES[2], STATIC_VALUES[2]], [":method", "GET"]);
  assertEquals([STATIC_NAMES[8], STATIC_VALUES[8]], [":status", "200"]);
  assertEquals([STATIC_NAMES[16], STATIC_VALUES[16]], ["accept-encoding", "gzip, deflate"]);
  assertEquals([STATIC_NAMES[32], STATIC_VALUES[32]], ["cookie", ""]);
  assertEquals([STATIC_NAMES[55], STATIC_VALUES[55]], ["set-cookie", ""]);
  assertEquals([STATIC_NAMES[61], STATIC_VALUES[61]], ["www-authenticate", ""]);
  // From 15 on, the RFC lists names alphabetically, except that "accept" (19) comes
  // after "accept-ranges" (18): a check that no line was dropped or swapped.
  const names = STATIC_NAMES.slice(15).map((n) => n === "accept" ? "accept-s" : n);
  assertEquals(names, [...names].sort());
});

Deno.test("static lookups find the lowest index for a name and the exact pair", () => {
  assertEquals(staticNameIndex(":method"), 2);
  assertEquals(staticNameIndex(":status"), 8);
  assertEquals(staticNameIndex("www-authenticate"), 61);
  assertEquals(staticNameIndex("x-unknown"), 0);
  assertEquals(staticFieldIndex(":method", "POST"), 3);
  assertEquals(staticFieldIndex(":status", "500"), 14);
  assertEquals(staticFieldIndex(":status", "201"), 0);
  assertEquals(staticFieldIndex("accept-encoding", "gzip, deflate"), 16);
  assertEquals(staticFieldIndex("accept-encoding", ""), 0);
  assertEquals(staticFieldIndex("user-agent", ""), 58);
  for (let i = 1; i <= 61; i++) {
    assertEquals(staticFieldIndex(STATIC_NAMES[i], STATIC_VALUES[i]), i);
  }
});

Deno.test("dynamic table indexes newest first and sizes entries as octets + 32", () => {
  const table = new DynamicTable(4096);
  table.add("a", "1");
  table.add("bb", "22");
  assertEquals([table.name(0), table.value(0)], ["bb", "22"]);
  assertEquals([table.name(1), table.value(1)], ["a", "1"]);
  assertEquals(table.size, 34 + 36);
  assertEquals(table.length, 2);
  assertEquals(table.inserted, 2);
});

Deno.test("dynamic table evicts oldest entries first and reports each one", () => {
  const evicted: string[] = [];
  const table = new DynamicTable(
    100,
    (name, value, seq) => evicted.push(`${seq}:${name}=${value}`),
  );
  table.add("a", "1"); // 34
  table.add("b", "2"); // 34
  table.add("c", "3"); // 34: 102 > 100, evicts a
  assertEquals(evicted, ["0:a=1"]);
  assertEquals(table.length, 2);
  assertEquals(table.size, 68);
  table.setMaxSize(40);
  assertEquals(evicted, ["0:a=1", "1:b=2"]);
  assertEquals(table.name(0), "c");
});

Deno.test("dynamic table empties itself for an entry larger than its maximum", () => {
  const table = new DynamicTable(100);
  table.add("a", "1");
  assertEquals(table.add("big", "x".repeat(70)), false); // 3 + 70 + 32 = 105
  assertEquals(table.length, 0);
  assertEquals(table.size, 0);
  assertEquals(table.add("fits", "x".repeat(64)), true); // exactly 100
  assertEquals(table.size, 100);
});

Deno.test("dynamic table keeps order across ring wrap-around and growth", () => {
  const table = new DynamicTable(34 * 40);
  for (let i = 0; i < 1000; i++) {
    table.add("n", String(i % 10)); // 34 octets each: at most 40 entries
    const expected = Math.min(i + 1, 40);
    assertEquals(table.length, expected);
    for (let k = 0; k < expected; k += 7) assertEquals(table.value(k), String((i - k) % 10));
  }
});
