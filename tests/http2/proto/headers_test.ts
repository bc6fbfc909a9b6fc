/** Field-list rules: request and response heads, trailers, and what is sent. */

import { assertEquals, assertThrows } from "@std/assert";
import {
  appendFields,
  parseRequest,
  parseResponse,
  parseTrailers,
} from "../../../http2/proto/headers.ts";

Deno.test("a valid request head gives its parts, cookie crumbs joined with '; '", () => {
  const r = parseRequest([
    [":method", "POST"],
    [":scheme", "https"],
    [":authority", "a.test:8443"],
    [":path", "/x?y=1"],
    ["cookie", "a=1"],
    ["content-length", "10"],
    ["cookie", "b=2"],
  ]);
  if (typeof r === "string") throw new Error(r);
  assertEquals([r.method, r.scheme, r.authority, r.path, r.contentLength], [
    "POST",
    "https",
    "a.test:8443",
    "/x?y=1",
    10,
  ]);
  assertEquals(r.fields, [["content-length", "10"], ["cookie", "a=1; b=2"]]);
});

Deno.test("a request without :authority takes the host header", () => {
  const r = parseRequest([[":method", "GET"], [":scheme", "http"], [":path", "/"], [
    "host",
    "h.test",
  ]]);
  assertEquals(typeof r === "string" ? r : r.authority, "h.test");
});

Deno.test("OPTIONS * and CONNECT are valid request forms", () => {
  assertEquals(
    typeof parseRequest([[":method", "OPTIONS"], [":scheme", "http"], [":path", "*"]]),
    "object",
  );
  const c = parseRequest([[":method", "CONNECT"], [":authority", "x:443"]]);
  assertEquals(typeof c === "string" ? c : [c.path, c.scheme], ["x:443", ""]);
});

Deno.test("conflicting content-length values are malformed, repeated equal ones are not", () => {
  const base: [string, string][] = [[":method", "POST"], [":scheme", "http"], [":path", "/"]];
  assertEquals(
    typeof parseRequest([...base, ["content-length", "3"], ["content-length", "3"]]),
    "object",
  );
  assertEquals(
    typeof parseRequest([...base, ["content-length", "3"], ["content-length", "4"]]),
    "string",
  );
});

Deno.test("a response head needs exactly one 3-digit :status, first", () => {
  const r = parseResponse([[":status", "204"], ["x-a", "1"]]);
  assertEquals(typeof r === "string" ? r : [r.status, r.fields], [204, [["x-a", "1"]]]);
  assertEquals(typeof parseResponse([["x-a", "1"]]), "string");
  assertEquals(typeof parseResponse([[":status", "20"]]), "string");
  assertEquals(typeof parseResponse([[":status", "200"], [":status", "200"]]), "string");
  assertEquals(typeof parseResponse([["x-a", "1"], [":status", "200"]]), "string");
  assertEquals(typeof parseResponse([[":status", "200"], [":path", "/"]]), "string");
  assertEquals(
    typeof parseResponse([[":status", "200"], ["transfer-encoding", "chunked"]]),
    "string",
  );
});

Deno.test("trailers may not hold pseudo-headers or connection-specific fields", () => {
  const t = parseTrailers([["grpc-status", "0"]]);
  assertEquals(t instanceof Headers ? t.get("grpc-status") : t, "0");
  assertEquals(typeof parseTrailers([[":status", "200"]]), "string");
  assertEquals(typeof parseTrailers([["connection", "close"]]), "string");
});

Deno.test("fields to send are lowercased; connection-specific ones and te other than trailers dropped", () => {
  const out: [string, string][] = [];
  appendFields({
    "Content-Type": "text/plain",
    Connection: "keep-alive",
    "Keep-Alive": "5",
    "Proxy-Connection": "x",
    "Transfer-Encoding": "chunked",
    Upgrade: "h2c",
    TE: "gzip",
    "X-Value": "  padded  ",
  }, out);
  assertEquals(out, [["content-type", "text/plain"], ["x-value", "padded"]]);
  const te: [string, string][] = [];
  appendFields(new Headers({ te: "trailers", host: "h" }), te, true);
  assertEquals(te, [["te", "trailers"]]);
});

Deno.test("invalid field names or values to send throw TypeError", () => {
  assertThrows(() => appendFields([["bad name", "x"]], []), TypeError);
  assertThrows(() => appendFields([[":path", "/"]], []), TypeError);
  assertThrows(() => appendFields([["x-a", "a\r\nb"]], []), TypeError);
});
