import { assertEquals, assertThrows } from "@std/assert";
import {
  decodeLatin1,
  parseRequestHead,
  parseResponseHead,
  responseFraming,
} from "../../http1/parse.ts";
import { encodeLatin1, reasonPhrase, requestHead, responseHead } from "../../http1/serialize.ts";
import { str } from "./_helpers.ts";

Deno.test("encodeLatin1 writes ASCII text as its bytes", () => {
  assertEquals(encodeLatin1("GET / HTTP/1.1\r\n"), new TextEncoder().encode("GET / HTTP/1.1\r\n"));
  assertEquals(encodeLatin1(""), new Uint8Array(0));
});

Deno.test("encodeLatin1 writes characters U+0080..U+00FF as one byte each, not as UTF-8", () => {
  assertEquals(encodeLatin1("caf\u00e9"), new Uint8Array([99, 97, 102, 0xe9]));
  let all = "";
  for (let c = 0; c < 256; c++) all += String.fromCharCode(c);
  const encoded = encodeLatin1(all);
  assertEquals(encoded, new Uint8Array(256).map((_, i) => i));
  assertEquals(decodeLatin1(encoded), all);
});

Deno.test("encodeLatin1 refuses characters above U+00FF instead of wrapping them into other bytes", () => {
  // U+010D U+010A would otherwise wrap to CR LF and split a head.
  assertThrows(() => encodeLatin1("x: a\u010d\u010ainjected: 1"), TypeError);
  assertThrows(() => encodeLatin1("caf\u00e9 \u20ac"), TypeError);
  assertThrows(() => encodeLatin1("\u{1f600}"), TypeError);
});

Deno.test("reasonPhrase gives the standard phrase, or an empty string for unknown codes", () => {
  assertEquals(reasonPhrase(200), "OK");
  assertEquals(reasonPhrase(404), "Not Found");
  assertEquals(reasonPhrase(101), "Switching Protocols");
  assertEquals(reasonPhrase(599), "");
});

Deno.test("responseHead writes the status line, the fields and the blank line", () => {
  const headers = new Headers([["Content-Type", "text/plain"], ["X-A", "1"]]);
  assertEquals(
    responseHead(200, "", headers),
    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-a: 1\r\n\r\n",
  );
  assertEquals(responseHead(204, "", new Headers()), "HTTP/1.1 204 No Content\r\n\r\n");
  assertEquals(responseHead(200, "Fine Thanks", new Headers()), "HTTP/1.1 200 Fine Thanks\r\n\r\n");
});

Deno.test("responseHead keeps the space before an empty reason phrase of an unknown status", () => {
  const head = responseHead(599, "", new Headers());
  assertEquals(head, "HTTP/1.1 599 \r\n\r\n");
  const parsed = parseResponseHead(encodeLatin1(head));
  assertEquals([parsed.status, parsed.statusText], [599, ""]);
});

Deno.test("responseHead adds extra lines after the fields and leaves out skipped names", () => {
  const headers = new Headers([["content-length", "99"], ["x-keep", "yes"], [
    "transfer-encoding",
    "gzip",
  ]]);
  assertEquals(
    responseHead(
      200,
      "",
      headers,
      "transfer-encoding: chunked\r\n",
      new Set(["content-length", "transfer-encoding"]),
    ),
    "HTTP/1.1 200 OK\r\nx-keep: yes\r\ntransfer-encoding: chunked\r\n\r\n",
  );
});

Deno.test("responseHead writes each Set-Cookie as its own field line", () => {
  const headers = new Headers();
  headers.append("set-cookie", "a=1; Path=/");
  headers.append("set-cookie", "b=2, c=3");
  headers.append("x-list", "1");
  headers.append("x-list", "2");
  const head = responseHead(200, "", headers);
  assertEquals(head.startsWith("HTTP/1.1 200 OK\r\n"), true);
  assertEquals(head.endsWith("\r\n\r\n"), true);
  // Bun lists Headers in another order than Deno and Node; the lines are what matter.
  const lines = head.split("\r\n").slice(1, -2).sort();
  assertEquals(lines, ["set-cookie: a=1; Path=/", "set-cookie: b=2, c=3", "x-list: 1, 2"]);
  const fields = parseResponseHead(encodeLatin1(head)).fields;
  const cookies = fields.filter((_, i) => i % 2 === 1 && fields[i - 1] === "set-cookie");
  assertEquals(cookies, ["a=1; Path=/", "b=2, c=3"]);
});

Deno.test("responseHead refuses a reason phrase or status that would break the status line", () => {
  for (const reason of ["OK\r\nSet-Cookie: evil=1", "OK\n", "O\rK", "O\x00K", "\x7f"]) {
    assertThrows(() => responseHead(200, reason, new Headers()), TypeError, undefined, reason);
  }
  for (const status of [99, 1000, 20.5, NaN, -200]) {
    assertThrows(() => responseHead(status, "X", new Headers()), TypeError, undefined, `${status}`);
  }
  // Tabs, spaces and obs-text are allowed in a reason phrase.
  assertEquals(responseHead(200, "A\tB \u00e9", new Headers()), "HTTP/1.1 200 A\tB \u00e9\r\n\r\n");
});

Deno.test("a response head round-trips through parseResponseHead, obs-text included", () => {
  const headers = new Headers([["x-latin", "caf\u00e9 \u00ff"], ["content-length", "5"]]);
  const wire = encodeLatin1(responseHead(201, "Cr\u00e9\u00e9", headers));
  assertEquals(str(wire.subarray(0, 19)), "HTTP/1.1 201 Cr\u00e9\u00e9\r\n");
  const parsed = parseResponseHead(wire);
  assertEquals(parsed.status, 201);
  assertEquals(parsed.statusText, "Cr\u00e9\u00e9");
  assertEquals(parsed.fields, ["content-length", "5", "x-latin", "caf\u00e9 \u00ff"]);
  assertEquals(responseFraming(parsed, "GET"), { kind: "length", length: 5 });
});

Deno.test("requestHead writes the request line, the fields and the blank line", () => {
  assertEquals(
    requestHead("GET", "/", new Headers({ host: "a" })),
    "GET / HTTP/1.1\r\nhost: a\r\n\r\n",
  );
  assertEquals(
    requestHead("CONNECT", "example.com:443", new Headers({ host: "example.com:443" })),
    "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n",
  );
});

Deno.test("a request head round-trips through parseRequestHead", () => {
  const headers = new Headers([["host", "example.com"], ["accept", "*/*"], ["x-n", "caf\u00e9"]]);
  const head = requestHead(
    "POST",
    "http://example.com/a?b=c",
    headers,
    "content-length: 3\r\n",
    new Set(["accept"]),
  );
  const parsed = parseRequestHead(encodeLatin1(head));
  assertEquals(parsed.method, "POST");
  assertEquals(parsed.target, "http://example.com/a?b=c");
  assertEquals(parsed.fields, ["host", "example.com", "x-n", "caf\u00e9", "content-length", "3"]);
  assertEquals(parsed.framing, { kind: "length", length: 3 });
  assertEquals(parsed.host, "example.com");
});

Deno.test("requestHead refuses a method or target that would break the request line", () => {
  for (const method of ["GE T", "GET\r\nX:", "", "G(T"]) {
    assertThrows(() => requestHead(method, "/", new Headers()), TypeError, undefined, method);
  }
  for (const target of ["/a b", "/a\r\nHost: evil", "", "/\x00", "/\x7f"]) {
    assertThrows(() => requestHead("GET", target, new Headers()), TypeError, undefined, target);
  }
});
