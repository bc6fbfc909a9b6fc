import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import {
  CloseCode,
  isValidCloseCode,
  protocolError,
  WebSocketError,
  WebSocketTimeoutError,
} from "../../websockets/errors.ts";

Deno.test("isValidCloseCode accepts 1000-1003, 1007-1014 and 3000-4999 only", () => {
  const valid = new Set<number>();
  for (const c of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014]) {
    valid.add(c);
  }
  for (let c = 3000; c <= 4999; c++) valid.add(c);
  for (let c = 0; c <= 70000; c++) assertEquals(isValidCloseCode(c), valid.has(c), `code ${c}`);
  assert(!isValidCloseCode(1000.5));
  assert(!isValidCloseCode(NaN));
});

Deno.test("CloseCode names the RFC 6455 codes", () => {
  assertEquals(CloseCode.Normal, 1000);
  assertEquals(CloseCode.NoStatus, 1005);
  assertEquals(CloseCode.Abnormal, 1006);
  assertEquals(CloseCode.MessageTooBig, 1009);
  assertEquals(CloseCode.MandatoryExtension, 1010);
  assertEquals(CloseCode.InternalError, 1011);
});

Deno.test("a WebSocketError carries its close code and reason", () => {
  const err = protocolError(1002, "bad frame");
  assertInstanceOf(err, WebSocketError);
  assertEquals([err.code, err.reason, err.name], [1002, "bad frame", "WebSocketError"]);
  assert(err.message.includes("1002") && err.message.includes("bad frame"));
  const t = new WebSocketTimeoutError("readIdle", 100);
  assertInstanceOf(t, WebSocketError);
  assertEquals([t.code, t.timeout], [1006, "readIdle"]);
});
