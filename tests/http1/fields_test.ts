import { assertEquals, assertThrows } from "@std/assert";
import { eachField } from "../../http1/_fields.ts";

const pairs = (init?: HeadersInit) => {
  const out: [string, string][] = [];
  eachField(init, (name, value) => out.push([name, value]));
  return out;
};

Deno.test("a plain record's fields come out in order with lower-case names", () => {
  assertEquals(pairs({ "Content-Type": "text/plain", "X-B": "2", "x-a": "1" }), [
    ["content-type", "text/plain"],
    ["x-b", "2"],
    ["x-a", "1"],
  ]);
});

Deno.test("no fields at all give no pairs", () => {
  assertEquals(pairs(undefined), []);
  assertEquals(pairs({}), []);
});

Deno.test("values with outer whitespace are trimmed as Headers trims them", () => {
  assertEquals(pairs({ a: "  x y\t" }), [["a", "x y"]]);
});

Deno.test("a CR, LF or NUL in a record's value is refused, not written", () => {
  for (const bad of ["a\r\nx-injected: 1", "a\nb", "a\0b"]) {
    assertThrows(() => pairs({ "x-v": bad }), TypeError);
  }
});

Deno.test("an invalid field name in a record is refused", () => {
  assertThrows(() => pairs({ "bad name": "1" }), TypeError);
  assertThrows(() => pairs({ "a:b": "1" }), TypeError);
});

Deno.test("arrays and Headers go through Headers, which joins repeated names", () => {
  assertEquals(pairs([["A", "1"], ["a", "2"]]), [["a", "1, 2"]]);
  assertEquals(pairs(new Headers([["b", "2"], ["A", "1"]])), [["a", "1"], ["b", "2"]]);
});

Deno.test("set-cookie fields of a Headers stay apart", () => {
  const h = new Headers([["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
  assertEquals(pairs(h), [["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
});

Deno.test("an invalid record is refused before any field is visited", () => {
  const seen: string[] = [];
  assertThrows(() => eachField({ a: "1", "bad name": "2" }, (name) => seen.push(name)), TypeError);
  assertEquals(seen, []);
});
