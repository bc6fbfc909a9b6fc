import { assertEquals, assertThrows } from "@std/assert";
import { BufferedReader, HeadTooLargeError } from "../../http1/buffered_reader.ts";
import {
  decodeLatin1,
  HttpParseError,
  parseRequestHead,
  parseResponseHead,
  parseTrailerSection,
  responseFraming,
  toHeaders,
} from "../../http1/parse.ts";
import { assertParseError, bytes, pair, readerOf } from "./_helpers.ts";

/** Parses a request head given as a string of bytes. */
function req(head: string, maxHeaderCount?: number) {
  return parseRequestHead(bytes(head), maxHeaderCount === undefined ? {} : { maxHeaderCount });
}

/** Parses a response head given as a string of bytes. */
function res(head: string) {
  return parseResponseHead(bytes(head));
}

/** Asserts that a request head is rejected with `status`. */
function rejects(head: string, status: number): HttpParseError {
  return assertParseError(() => req(head), status);
}

/** A request head with the given field lines after `Host: h`. */
function withFields(...lines: string[]): string {
  return `POST / HTTP/1.1\r\nHost: h\r\n${lines.map((l) => l + "\r\n").join("")}\r\n`;
}

// ---------------------------------------------------------------------------------------------
// Valid requests

Deno.test("a simple GET parses into method, target, version, host and lowercase field names", () => {
  const r = req("GET /index.html HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
  assertEquals(r, {
    method: "GET",
    target: "/index.html",
    minor: 1,
    fields: ["host", "example.com", "accept", "*/*"],
    framing: { kind: "none" },
    keepAlive: true,
    expectContinue: false,
    host: "example.com",
    upgrade: null,
  });
});

Deno.test("standard and extension methods are accepted and kept case-sensitive", () => {
  for (
    const method of [
      "GET",
      "HEAD",
      "POST",
      "PUT",
      "DELETE",
      "CONNECT",
      "OPTIONS",
      "TRACE",
      "PATCH",
      "PROPFIND",
      "M-SEARCH",
      "get",
      "X!#$%&'*+.^_`|~9",
    ]
  ) {
    const target = method === "CONNECT" ? "h:443" : "/";
    assertEquals(req(`${method} ${target} HTTP/1.1\r\nHost: h\r\n\r\n`).method, method);
  }
});

Deno.test("every request-target form is passed through verbatim", () => {
  const cases: [string, string][] = [
    ["GET", "/"],
    ["GET", "/a/b%20c?x=1&y=%2F#not-sent-but-visible"],
    ["GET", "http://example.com:8080/path?q=1"],
    ["CONNECT", "example.com:443"],
    ["CONNECT", "[::1]:8443"],
    ["OPTIONS", "*"],
  ];
  for (const [method, target] of cases) {
    const r = req(`${method} ${target} HTTP/1.1\r\nHost: example.com\r\n\r\n`);
    assertEquals([r.method, r.target], [method, target]);
  }
});

Deno.test("a request-target in a form its method cannot have is rejected with 400", () => {
  const cases: [string, string][] = [
    ["GET", "foo"], // no form at all
    ["GET", "example.com:80"], // authority-form is for CONNECT
    ["GET", "*"], // asterisk-form is for OPTIONS
    ["M-SEARCH", "*"],
    ["OPTIONS", "*x"],
    ["GET", "http:/y"], // an http URI has a host (RFC 9110 section 4.2)
    ["GET", "http:y"],
    ["GET", "http://"],
    ["GET", "http://u@y/"], // userinfo (RFC 9110 section 4.2.4)
    ["GET", "mailto:x"],
    ["CONNECT", "/"],
    ["CONNECT", "example.com"], // authority-form has a port
    ["CONNECT", ":443"],
    ["CONNECT", "http://example.com:443/"],
  ];
  for (const [method, target] of cases) {
    rejects(`${method} ${target} HTTP/1.1\r\nHost: h\r\n\r\n`, 400);
  }
  // Absolute-form of another scheme, without a path, or with a query right after the host.
  for (const target of ["ftp://y/", "http://y", "http://y?q", "HTTPS://Y:8443/a"]) {
    assertEquals(req(`GET ${target} HTTP/1.1\r\nHost: h\r\n\r\n`).target, target);
  }
});

Deno.test("HTTP/1.1 keeps the connection alive by default, HTTP/1.0 does not", () => {
  assertEquals(req("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keepAlive, true);
  const old = req("GET / HTTP/1.0\r\n\r\n");
  assertEquals([old.minor, old.keepAlive], [0, false]);
});

Deno.test("Connection: close ends an HTTP/1.1 connection and keep-alive keeps an HTTP/1.0 one", () => {
  assertEquals(req("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keepAlive, false);
  assertEquals(req("GET / HTTP/1.1\r\nHost: h\r\nConnection: CLOSE\r\n\r\n").keepAlive, false);
  assertEquals(req("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keepAlive, true);
  assertEquals(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive, true);
  assertEquals(req("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n").keepAlive, true);
});

Deno.test("close wins over keep-alive wherever it appears among the Connection options", () => {
  assertEquals(req("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keepAlive, false);
  assertEquals(
    req("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: te, close\r\n\r\n")
      .keepAlive,
    false,
  );
});

Deno.test("an HTTP/1.0 request without Host is accepted with an empty host", () => {
  const r = req("GET / HTTP/1.0\r\nAccept: x\r\n\r\n");
  assertEquals([r.host, r.fields], ["", ["accept", "x"]]);
});

Deno.test("a minor version above 1 is read as HTTP/1.1", () => {
  const r = req("GET / HTTP/1.9\r\nHost: h\r\n\r\n");
  assertEquals([r.minor, r.keepAlive], [1, true]);
});

Deno.test("fields with the same name stay separate and in order, and toHeaders joins them", () => {
  const r = req(
    "GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nX-One: 1\r\naccept: b\r\nACCEPT: c\r\n\r\n",
  );
  assertEquals(r.fields, ["host", "h", "accept", "a", "x-one", "1", "accept", "b", "accept", "c"]);
  assertEquals(toHeaders(r.fields).get("accept"), "a, b, c");
});

Deno.test("optional whitespace around a field value is trimmed, inner whitespace is kept", () => {
  const r = req(
    "GET / HTTP/1.1\r\nHost:h\r\nA: \t x \t \r\nB:\t\ty  z\t\r\nC:\r\nD:   \r\nE: tab\tinside\r\n\r\n",
  );
  assertEquals(r.fields, [
    "host",
    "h",
    "a",
    "x",
    "b",
    "y  z",
    "c",
    "",
    "d",
    "",
    "e",
    "tab\tinside",
  ]);
  assertEquals(r.host, "h");
});

Deno.test("field values keep their case while names are lowercased", () => {
  const r = req("GET / HTTP/1.1\r\nHOST: Example.COM\r\nX-MiXeD: VaLuE\r\n\r\n");
  assertEquals(r.fields, ["host", "Example.COM", "x-mixed", "VaLuE"]);
});

Deno.test("obs-text bytes 0x80-0xFF in a value decode one byte to one character", () => {
  let high = "";
  for (let b = 0x80; b <= 0xff; b++) high += String.fromCharCode(b);
  const r = req(`GET / HTTP/1.1\r\nHost: h\r\nX-High: ${high}\r\n\r\n`);
  assertEquals(r.fields[3], high);
  assertEquals(r.fields[3].length, 128);
});

Deno.test("bytes that happen to be valid UTF-8 are still decoded one byte to one character", () => {
  // "é" in UTF-8 (C3 A9), U+FFFD in UTF-8 (EF BF BD), a 4-byte sequence (F0 9F 98 80).
  const r = req(
    "GET / HTTP/1.1\r\nHost: h\r\nA: caf\xc3\xa9\r\nB: \xef\xbf\xbd\r\nC: \xf0\x9f\x98\x80\r\n\r\n",
  );
  assertEquals(r.fields.slice(2), [
    "a",
    "caf\u00c3\u00a9",
    "b",
    "\u00ef\u00bf\u00bd",
    "c",
    "\u00f0\u009f\u0098\u0080",
  ]);
});

Deno.test("decodeLatin1 maps every byte value to the character with that code", () => {
  const all = new Uint8Array(256).map((_, i) => i);
  const text = decodeLatin1(all);
  assertEquals(text.length, 256);
  for (let i = 0; i < 256; i++) assertEquals(text.charCodeAt(i), i);
  // A byte-order mark at the start is kept, not swallowed.
  assertEquals(decodeLatin1(bytes("\xef\xbb\xbfA")), "\u00ef\u00bb\u00bfA");
});

Deno.test("empty lines before the request line are skipped by readHead before parsing", async () => {
  const reader = await readerOf(["\r\n\r\n\r\nGET /after-blank HTTP/1.1\r\nHost: h\r\n\r\n"]);
  const r = parseRequestHead((await reader.readHead(1024))!);
  assertEquals([r.method, r.target], ["GET", "/after-blank"]);
});

Deno.test("Expect: 100-continue is reported for an HTTP/1.1 request that has a body", () => {
  const cl = req("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  assertEquals(cl.expectContinue, true);
  const chunked = req(
    "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-Continue\r\n\r\n",
  );
  assertEquals(chunked.expectContinue, true);
});

Deno.test("Expect: 100-continue is ignored without a body, in HTTP/1.0, and for other expectations", () => {
  assertEquals(
    req("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n").expectContinue,
    false,
  );
  assertEquals(
    req("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n")
      .expectContinue,
    false,
  );
  assertEquals(
    req("PUT / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n").expectContinue,
    false,
  );
  assertEquals(
    req("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 200-ok\r\n\r\n").expectContinue,
    false,
  );
});

Deno.test("Upgrade is reported only when Connection lists upgrade", () => {
  const ws = "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n";
  assertEquals(req(ws + "Connection: Upgrade\r\n\r\n").upgrade, "websocket");
  assertEquals(req(ws + "Connection: keep-alive, upgrade\r\n\r\n").upgrade, "websocket");
  assertEquals(
    req(ws + "Connection: keep-alive\r\nConnection: upgrade\r\n\r\n").upgrade,
    "websocket",
  );
  assertEquals(req(ws + "\r\n").upgrade, null);
  assertEquals(req(ws + "Connection: keep-alive\r\n\r\n").upgrade, null);
  assertEquals(req(ws + "Connection: upgraded\r\n\r\n").upgrade, null);
  assertEquals(req("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n").upgrade, null);
});

Deno.test("Upgrade in an HTTP/1.0 request is ignored (RFC 9110 section 7.8)", () => {
  const r = req("GET /chat HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
  assertEquals(r.upgrade, null);
});

Deno.test("Content-Length sets a length framing, and zero means no body", () => {
  assertEquals(req(withFields("Content-Length: 42")).framing, { kind: "length", length: 42 });
  assertEquals(req(withFields("Content-Length: 007")).framing, { kind: "length", length: 7 });
  assertEquals(req(withFields("Content-Length: 0")).framing, { kind: "none" });
  assertEquals(
    req(withFields("Content-Length: 999999999999999")).framing,
    { kind: "length", length: 999999999999999 },
  );
});

Deno.test("identical repeated Content-Length values, in one field or several, are accepted", () => {
  assertEquals(req(withFields("Content-Length: 5, 5")).framing, { kind: "length", length: 5 });
  assertEquals(req(withFields("Content-Length: 5,5,5")).framing, { kind: "length", length: 5 });
  assertEquals(
    req(withFields("Content-Length: 5", "Content-Length: 5")).framing,
    { kind: "length", length: 5 },
  );
  assertEquals(
    req(withFields("Content-Length: 5", "Content-Length: 05")).framing,
    { kind: "length", length: 5 },
  );
});

Deno.test("Transfer-Encoding: chunked sets a chunked framing, matched case-insensitively", () => {
  assertEquals(req(withFields("Transfer-Encoding: chunked")).framing, { kind: "chunked" });
  assertEquals(req(withFields("Transfer-Encoding: CHUNKED")).framing, { kind: "chunked" });
  assertEquals(req(withFields("Transfer-Encoding:\tChunked\t")).framing, { kind: "chunked" });
});

Deno.test("a request without Content-Length or Transfer-Encoding has no body", () => {
  assertEquals(req(withFields()).framing, { kind: "none" });
  assertEquals(req("POST / HTTP/1.0\r\n\r\n").framing, { kind: "none" });
});

// ---------------------------------------------------------------------------------------------
// Rejected requests

Deno.test("obs-fold (a field line starting with SP or HTAB) is rejected with 400", () => {
  rejects("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400);
  // Whitespace between the request line and the first field line.
  rejects("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400);
});

Deno.test("a bare CR in the request line is rejected with 400", () => {
  rejects("GET / HTTP/1.1\rHost: h\r\n\r\n", 400);
  rejects("GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  rejects("GET\r/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", 400);
});

Deno.test("a bare CR in a field line is rejected with 400", () => {
  rejects("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: h\r\nX\r: a\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: h\rX: a\r\n\r\n", 400);
});

Deno.test("a bare LF in the request line is rejected with 400", () => {
  rejects("GET / HTTP/1.1\nHost: h\r\n\r\n", 400);
  rejects("GET /a\nb HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\n\r\nHost: h\r\n\r\n", 400);
});

Deno.test("a bare LF in a field line is rejected with 400", () => {
  rejects("GET / HTTP/1.1\r\nHost: h\nX: a\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: h\r\nX: a\n\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: h\r\nX\n: a\r\n\r\n", 400);
});

Deno.test("NUL, DEL and other control bytes in a field value are rejected with 400", () => {
  for (let b = 0; b < 0x20; b++) {
    if (b === 9 || b === 10 || b === 13) continue;
    rejects(withFields(`X: a${String.fromCharCode(b)}b`), 400);
  }
  rejects(withFields("X: a\x7fb"), 400);
  rejects(withFields("X: \x00"), 400);
  rejects("GET / HTTP/1.1\r\nHost: h\x00\r\n\r\n", 400);
});

Deno.test("whitespace between a field name and its colon is rejected with 400", () => {
  rejects("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400);
  rejects(withFields("Content-Length : 5"), 400);
});

Deno.test("an empty field name or a line without a colon is rejected with 400", () => {
  rejects(withFields(": value"), 400);
  rejects(withFields(":"), 400);
  rejects(withFields("no colon here"), 400);
  rejects(withFields("NoColon"), 400);
});

Deno.test("field names with characters outside tchar are rejected with 400", () => {
  for (
    const name of ["X(y)", "X y", "X/y", "X@y", "X[y]", 'X"y', "X{y}", "X\xdcy", "X\x7fy", "X\x00y"]
  ) {
    rejects(withFields(`${name}: v`), 400);
  }
});

Deno.test("invalid characters in the method are rejected with 400", () => {
  for (const method of ["G(T", "GE\x7fT", "GE\xc9T", "GE,T", "GE:T", "[GET]", "G\tET"]) {
    rejects(`${method} / HTTP/1.1\r\nHost: h\r\n\r\n`, 400);
  }
  rejects(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
});

Deno.test("invalid characters in the request target are rejected with 400", () => {
  for (const target of ["/a\x7f", "/caf\xe9", "/a\tb", "/\x00", "/\x1b[0m"]) {
    rejects(`GET ${target} HTTP/1.1\r\nHost: h\r\n\r\n`, 400);
  }
});

Deno.test("a request line with missing, empty or extra parts is rejected with 400", () => {
  for (
    const line of [
      "GET /",
      "GET",
      "GET HTTP/1.1",
      "GET  / HTTP/1.1",
      "GET /  HTTP/1.1",
      "GET / HTTP/1.1 ",
      "GET /a b HTTP/1.1",
      "",
    ]
  ) {
    rejects(`${line}\r\nHost: h\r\n\r\n`, 400);
  }
});

Deno.test("a malformed HTTP version is rejected with 400", () => {
  for (
    const version of [
      "HTTP/1",
      "HTTP/1.",
      "HTTP/1.1.1",
      "HTTP/11",
      "HTTP/1.x",
      "HTTP/10.1",
      "http/1.1",
      "Http/1.1",
      "HTTPS/1.1",
      "HTTP 1.1",
      "HTTP/ 1.1",
    ]
  ) {
    rejects(`GET / ${version}\r\nHost: h\r\n\r\n`, 400);
  }
});

Deno.test("an HTTP/2.0 (or any non-1) major version in a request line is rejected with 505", () => {
  rejects("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
  rejects("GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505);
  rejects("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505);
  // The HTTP/2 connection preface's first line is a request line with version HTTP/2.0.
  rejects("PRI * HTTP/2.0\r\n\r\n", 505);
});

Deno.test("both Content-Length and Transfer-Encoding in a request are rejected with 400", () => {
  rejects(withFields("Content-Length: 5", "Transfer-Encoding: chunked"), 400);
  rejects(withFields("Transfer-Encoding: chunked", "Content-Length: 5"), 400);
  rejects(withFields("Transfer-Encoding: chunked", "Content-Length: 0"), 400);
});

Deno.test("two different Content-Length values, in one field or two, are rejected with 400", () => {
  rejects(withFields("Content-Length: 5, 6"), 400);
  rejects(withFields("Content-Length: 5,6"), 400);
  rejects(withFields("Content-Length: 5", "Content-Length: 6"), 400);
  rejects(withFields("Content-Length: 0", "Content-Length: 10"), 400);
});

Deno.test("a non-numeric, negative, empty or huge Content-Length is rejected with 400", () => {
  for (
    const value of [
      "abc",
      "5a",
      "0x5",
      "+5",
      "-1",
      "-0",
      "5.0",
      "1e3",
      "",
      "5,",
      ",5",
      "5 6",
      "1234567890123456",
    ]
  ) {
    rejects(withFields(`Content-Length: ${value}`), 400);
  }
});

Deno.test("Content-Length and Transfer-Encoding only trim SP and HTAB, not other spaces", () => {
  // U+00A0 (a no-break space, byte 0xA0) is obs-text, not whitespace: "5\xa0" is not a number
  // and "\xa0chunked" is not chunked. JavaScript's trim() would strip it.
  rejects(withFields("Content-Length: 5\xa0"), 400);
  rejects(withFields("Content-Length: \xa05"), 400);
  rejects(withFields("Content-Length: 5,\xa05"), 400);
  rejects(withFields("Transfer-Encoding: \xa0chunked"), 400);
  rejects(withFields("Transfer-Encoding: gzip,\xa0chunked\xa0"), 400);
  assertEquals(req(withFields("Transfer-Encoding: , \tchunked\t")).framing, { kind: "chunked" });
  assertEquals(req(withFields("Content-Length: 5 ,\t5")).framing, { kind: "length", length: 5 });
});

Deno.test("Transfer-Encoding with a coding before chunked is rejected with 501", () => {
  rejects(withFields("Transfer-Encoding: gzip, chunked"), 501);
  rejects(withFields("Transfer-Encoding: gzip", "Transfer-Encoding: chunked"), 501);
  rejects(withFields("Transfer-Encoding: identity, chunked"), 501);
});

Deno.test("Transfer-Encoding whose final coding is not chunked is rejected with 400", () => {
  rejects(withFields("Transfer-Encoding: chunked, gzip"), 400);
  rejects(withFields("Transfer-Encoding: chunked", "Transfer-Encoding: gzip"), 400);
  rejects(withFields("Transfer-Encoding: chunked, chunked"), 400);
  rejects(withFields("Transfer-Encoding: gzip"), 400);
  rejects(withFields("Transfer-Encoding: identity"), 400);
  rejects(withFields("Transfer-Encoding: chunkedx"), 400);
  rejects(withFields("Transfer-Encoding:"), 400);
});

Deno.test("Transfer-Encoding in an HTTP/1.0 request is rejected with 400", () => {
  rejects("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
  rejects("POST / HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
});

Deno.test("an HTTP/1.1 request without a Host field is rejected with 400", () => {
  rejects("GET / HTTP/1.1\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400);
  rejects("GET http://example.com/ HTTP/1.1\r\nX-Host: example.com\r\n\r\n", 400);
});

Deno.test("two Host fields are rejected with 400, even with the same value", () => {
  rejects("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400);
  rejects("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400);
});

Deno.test("more fields than maxHeaderCount are rejected with 431", () => {
  const head = (n: number) =>
    "GET / HTTP/1.1\r\nHost: h\r\n" + Array.from({ length: n - 1 }, (_, i) => `X-${i}: ${i}\r\n`)
      .join("") +
    "\r\n";
  assertEquals(req(head(100)).fields.length, 200);
  rejects(head(101), 431);
  assertEquals(req(head(5), 5).fields.length, 10);
  assertParseError(() => req(head(6), 5), 431);
});

Deno.test("a head over the size limit makes readHead throw HeadTooLargeError", async () => {
  const [client, server] = pair();
  const big = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + "a".repeat(2000) + "\r\n\r\n";
  await client.write(bytes(big));
  await client.closeWrite();
  const error = await new BufferedReader(server).readHead(1024).then(
    () => null,
    (e) => e,
  );
  assertEquals(error instanceof HeadTooLargeError, true);
  assertEquals((error as HeadTooLargeError).limit, 1024);
});

// ---------------------------------------------------------------------------------------------
// Trailer sections

Deno.test("a trailer section parses into lowercase names and trimmed values", () => {
  assertEquals(
    parseTrailerSection(bytes("X-Checksum: abc\r\nServer-Timing:  db;dur=53 \r\n\r\n")),
    ["x-checksum", "abc", "server-timing", "db;dur=53"],
  );
});

Deno.test("a trailer section is held to the same field rules as a head", () => {
  assertParseError(() => parseTrailerSection(bytes("X: a\r\n b\r\n\r\n")), 400);
  assertParseError(() => parseTrailerSection(bytes("X : a\r\n\r\n")), 400);
  assertParseError(() => parseTrailerSection(bytes("X: a\x00\r\n\r\n")), 400);
  assertParseError(
    () => parseTrailerSection(bytes("X: 1\r\nY: 2\r\n\r\n"), { maxHeaderCount: 1 }),
    431,
  );
});

// ---------------------------------------------------------------------------------------------
// Responses

Deno.test("a status line with a reason phrase parses status and reason", () => {
  const r = res("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  assertEquals(r, {
    minor: 1,
    status: 404,
    statusText: "Not Found",
    fields: ["content-length", "0"],
    keepAlive: true,
  });
});

Deno.test("a status line without a reason phrase, with or without its space, is accepted", () => {
  assertEquals([res("HTTP/1.1 200\r\n\r\n").status, res("HTTP/1.1 200\r\n\r\n").statusText], [
    200,
    "",
  ]);
  assertEquals([res("HTTP/1.1 204 \r\n\r\n").status, res("HTTP/1.1 204 \r\n\r\n").statusText], [
    204,
    "",
  ]);
});

Deno.test("a reason phrase keeps its spaces, tabs and obs-text", () => {
  assertEquals(res("HTTP/1.1 200 All  \tfine \xe9\r\n\r\n").statusText, "All  \tfine \u00e9");
});

Deno.test("response keep-alive follows the version and the Connection field", () => {
  assertEquals(res("HTTP/1.1 200 OK\r\n\r\n").keepAlive, true);
  assertEquals(res("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").keepAlive, false);
  assertEquals(res("HTTP/1.0 200 OK\r\n\r\n").keepAlive, false);
  assertEquals(res("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n").keepAlive, true);
});

Deno.test("malformed status lines are rejected with 400", () => {
  for (
    const line of [
      "HTTP/1.1",
      "HTTP/1.1 20 OK",
      "HTTP/1.1 2000 OK",
      "HTTP/1.1 abc OK",
      "HTTP/1.1  200 OK",
      "HTTP/1.1 200\tOK",
      "HTTP/1.1 200 O\x00K",
      "HTTP/1.1 200 O\rK",
      "HTTP/1.1 200 OK\n",
      "HTTP/1.1 -20 OK",
      "HTTP/1.1 099 Odd", // below 100: no status (RFC 9110 section 15), not an interim one
      "HTTP/1.1 000 OK",
      "http/1.1 200 OK",
      " HTTP/1.1 200 OK",
    ]
  ) {
    assertParseError(() => res(`${line}\r\n\r\n`), 400);
  }
  assertParseError(() => res("HTTP/2.0 200 OK\r\n\r\n"), 505);
});

Deno.test("response field lines are held to the same rules as request field lines", () => {
  assertParseError(() => res("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), 400);
  assertParseError(() => res("HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n"), 400);
  assertParseError(() => res("HTTP/1.1 200 OK\r\nX : a\r\n\r\n"), 400);
});

Deno.test("a response to HEAD has no body whatever its framing fields say", () => {
  assertEquals(responseFraming(res("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"), "HEAD"), {
    kind: "none",
  });
  assertEquals(
    responseFraming(res("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), "HEAD"),
    { kind: "none" },
  );
  assertEquals(responseFraming(res("HTTP/1.1 200 OK\r\n\r\n"), "HEAD"), { kind: "none" });
});

Deno.test("1xx, 204 and 304 responses have no body whatever their framing fields say", () => {
  for (const status of [100, 101, 103, 199, 204, 304]) {
    assertEquals(
      responseFraming(res(`HTTP/1.1 ${status} X\r\nContent-Length: 10\r\n\r\n`), "GET"),
      { kind: "none" },
    );
    assertEquals(responseFraming(res(`HTTP/1.1 ${status} X\r\n\r\n`), "GET"), { kind: "none" });
  }
});

Deno.test("a 2xx response to CONNECT becomes a tunnel read to close, other statuses are framed", () => {
  assertEquals(
    responseFraming(
      res("HTTP/1.1 200 Connection Established\r\nContent-Length: 5\r\n\r\n"),
      "CONNECT",
    ),
    { kind: "close" },
  );
  assertEquals(responseFraming(res("HTTP/1.1 299 X\r\n\r\n"), "CONNECT"), { kind: "close" });
  assertEquals(
    responseFraming(res("HTTP/1.1 407 Proxy Auth\r\nContent-Length: 5\r\n\r\n"), "CONNECT"),
    { kind: "length", length: 5 },
  );
});

Deno.test("a response body is chunked, length-delimited, empty or read to close", () => {
  assertEquals(
    responseFraming(res("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), "GET"),
    { kind: "chunked" },
  );
  assertEquals(responseFraming(res("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"), "POST"), {
    kind: "length",
    length: 7,
  });
  assertEquals(responseFraming(res("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), "GET"), {
    kind: "none",
  });
  assertEquals(responseFraming(res("HTTP/1.1 200 OK\r\n\r\n"), "GET"), { kind: "close" });
  assertEquals(responseFraming(res("HTTP/1.0 500 Oops\r\n\r\n"), "GET"), { kind: "close" });
});

Deno.test("in a response Transfer-Encoding overrides Content-Length", () => {
  assertEquals(
    responseFraming(
      res("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
      "GET",
    ),
    { kind: "chunked" },
  );
});

Deno.test("a response whose final transfer coding is not chunked is read to close", () => {
  for (const te of ["gzip", "chunked, gzip", "chunked, identity"]) {
    assertEquals(
      responseFraming(res(`HTTP/1.1 200 OK\r\nTransfer-Encoding: ${te}\r\n\r\n`), "GET"),
      { kind: "close" },
      te,
    );
  }
});

Deno.test("a response chunked twice, in one field or two, is framed by its final chunked coding", () => {
  // Against RFC 9112 section 6.1, but read to the close it would hand out chunked bytes as
  // the body, or wait on a kept-alive connection for ever.
  for (
    const fields of [
      "Transfer-Encoding: chunked, chunked",
      "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
    ]
  ) {
    assertEquals(
      responseFraming(res(`HTTP/1.1 200 OK\r\n${fields}\r\n\r\n`), "GET"),
      { kind: "chunked" },
      fields,
    );
  }
});

Deno.test("an HTTP/1.0 response with Transfer-Encoding cannot be framed (400), even with a Content-Length", () => {
  for (
    const fields of [
      "Transfer-Encoding: chunked",
      "Transfer-Encoding: chunked\r\nContent-Length: 2",
    ]
  ) {
    assertParseError(
      () => responseFraming(res(`HTTP/1.0 200 OK\r\n${fields}\r\n\r\n`), "GET"),
      400,
    );
  }
  // Without a body to frame, there is nothing to refuse.
  assertEquals(
    responseFraming(res("HTTP/1.0 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"), "GET"),
    { kind: "none" },
  );
});

Deno.test("a request chunked twice, or not chunked last, is rejected with 400", () => {
  for (const te of ["chunked, chunked", "chunked, gzip", "gzip"]) {
    rejects(`POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ${te}\r\n\r\n`, 400);
  }
  rejects("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
});

Deno.test("a response with conflicting or invalid Content-Length cannot be framed (400)", () => {
  assertParseError(
    () => responseFraming(res("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n"), "GET"),
    400,
  );
  assertParseError(
    () =>
      responseFraming(
        res("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
        "GET",
      ),
    400,
  );
  assertParseError(
    () => responseFraming(res("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), "GET"),
    400,
  );
  assertEquals(
    responseFraming(
      res("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"),
      "GET",
    ),
    { kind: "length", length: 5 },
  );
});

Deno.test("HttpParseError carries its status and a message and is an Error", () => {
  const error = assertThrows(() => req("GET / HTTP/1.1\r\n\r\n"), HttpParseError) as HttpParseError;
  assertEquals(error instanceof Error, true);
  assertEquals(error.name, "HttpParseError");
  assertEquals(error.status, 400);
  assertEquals(error.message.length > 0, true);
});

Deno.test("parseRequestHead rejects a Host value that is not a host and port with 400", () => {
  for (const host of ["a b", "a/b", "a@b", "[::1"]) {
    const error = assertThrows(
      () => parseRequestHead(new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`)),
      HttpParseError,
    );
    assertEquals(error.status, 400, host);
  }
  for (const host of ["example.com", "example.com:8080", "127.0.0.1:1", "[::1]:80", ""]) {
    const parsed = parseRequestHead(
      new TextEncoder().encode(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`),
    );
    assertEquals(parsed.host, host);
  }
});
