/** The opening handshake helpers (RFC 6455 section 4). */
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "@std/assert";
import {
  type AcceptedRequest,
  acceptHeaders,
  acceptKey,
  clientRequestHeaders,
  generateKey,
  validateRequest,
  validateResponse,
} from "../../websockets/handshake.ts";
import { WebSocketError } from "../../websockets/errors.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

function request(extra: Record<string, string | null> = {}): Headers {
  const h = new Headers({
    host: "example.com",
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": KEY,
    "sec-websocket-version": "13",
  });
  for (const [k, v] of Object.entries(extra)) v === null ? h.delete(k) : h.set(k, v);
  return h;
}

function accepted(r: ReturnType<typeof validateRequest>): AcceptedRequest {
  if (!r.ok) throw new Error(`refused: ${r.status} ${r.reason}`);
  return r;
}

Deno.test("acceptKey computes the RFC 6455 example", async () => {
  assertEquals(await acceptKey(KEY), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("generateKey makes distinct 16-byte base64 keys", () => {
  const keys = new Set(Array.from({ length: 100 }, generateKey));
  assertEquals(keys.size, 100);
  for (const k of keys) {
    assertMatch(k, /^[A-Za-z0-9+/]{22}==$/);
    assertEquals(atob(k).length, 16);
  }
});

Deno.test("a server accepts a well-formed upgrade request", async () => {
  const r = accepted(
    validateRequest("GET", request({ connection: "keep-alive, Upgrade", upgrade: "WebSocket" })),
  );
  assertEquals(r, { ok: true, key: KEY, protocol: null, deflate: null, extensions: "" });
  const h = await acceptHeaders(r);
  assertEquals(h.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assertEquals(h.get("upgrade"), "websocket");
  assertEquals(h.get("connection"), "Upgrade");
  assertEquals(h.get("sec-websocket-protocol"), null);
});

Deno.test("a server refuses a malformed upgrade with 400", () => {
  const cases: [string, Headers][] = [
    ["POST", request()],
    ["GET", request({ host: null })],
    ["GET", request({ upgrade: null })],
    ["GET", request({ upgrade: "h2c" })],
    ["GET", request({ connection: null })],
    ["GET", request({ connection: "keep-alive" })],
    ["GET", request({ "sec-websocket-key": null })],
    ["GET", request({ "sec-websocket-key": "short==" })],
    ["GET", request({ "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ" })],
    ["GET", request({ "sec-websocket-key": `${KEY}, ${KEY}` })], // sent twice
    ["GET", request({ "sec-websocket-version": null })],
    ["GET", request({ "sec-websocket-protocol": "a b" })],
  ];
  for (const [method, headers] of cases) {
    const r = validateRequest(method, headers);
    assert(!r.ok && r.status === 400, `${method} ${JSON.stringify([...headers])}`);
  }
});

Deno.test("a server answers a wrong version with 426 and Sec-WebSocket-Version: 13", () => {
  for (const v of ["8", "12", "14", "13, 8"]) {
    const r = validateRequest("GET", request({ "sec-websocket-version": v }));
    if (r.ok) throw new Error("accepted");
    assertEquals(r.status, 426);
    assertEquals(r.headers.get("sec-websocket-version"), "13");
  }
});

Deno.test("a server picks the client's first offered subprotocol it speaks", async () => {
  const headers = request({ "sec-websocket-protocol": "v2.chat, v1.chat, other" });
  assertEquals(
    accepted(validateRequest("GET", headers, { protocols: ["v1.chat", "v2.chat"] })).protocol,
    "v2.chat",
  );
  assertEquals(
    accepted(validateRequest("GET", headers, { protocols: ["v1.chat"] })).protocol,
    "v1.chat",
  );
  assertEquals(accepted(validateRequest("GET", headers, { protocols: ["x"] })).protocol, null);
  assertEquals(accepted(validateRequest("GET", headers)).protocol, null);
  const chosen = accepted(
    validateRequest("GET", headers, { protocols: (offered) => offered.at(-1) }),
  );
  assertEquals(chosen.protocol, "other");
  assertEquals((await acceptHeaders(chosen)).get("sec-websocket-protocol"), "other");
  assertThrows(() => validateRequest("GET", headers, { protocols: () => "nope" }), TypeError);
});

Deno.test("a server negotiates permessage-deflate only when it is enabled", () => {
  const headers = request({
    "sec-websocket-extensions": "permessage-deflate; client_max_window_bits",
  });
  assertEquals(accepted(validateRequest("GET", headers)).deflate, null);
  const r = accepted(validateRequest("GET", headers, { deflate: true }));
  assertEquals(r.extensions, "permessage-deflate");
  assertEquals(r.deflate?.serverMaxWindowBits, 15);
  const bad = validateRequest(
    "GET",
    request({ "sec-websocket-extensions": "permessage-deflate; a b" }),
    {
      deflate: true,
    },
  );
  assert(!bad.ok && bad.status === 400);
  const declined = accepted(
    validateRequest("GET", request({ "sec-websocket-extensions": "permessage-deflate; x" }), {
      deflate: true,
    }),
  );
  assertEquals([declined.deflate, declined.extensions], [null, ""]);
});

async function response(key: string, extra: Record<string, string | null> = {}): Promise<Headers> {
  const h = new Headers({
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-accept": await acceptKey(key),
  });
  for (const [k, v] of Object.entries(extra)) v === null ? h.delete(k) : h.set(k, v);
  return h;
}

async function failsWith(code: number, p: Promise<unknown>): Promise<void> {
  const err = await assertRejects(() => p, WebSocketError);
  assertEquals(err.code, code);
}

Deno.test("a client accepts a correct 101 response", async () => {
  const key = generateKey();
  assertEquals(await validateResponse(101, await response(key), key), {
    protocol: null,
    deflate: null,
    extensions: "",
  });
  const r = await validateResponse(
    101,
    await response(key, {
      "sec-websocket-protocol": "chat",
      "sec-websocket-extensions": "permessage-deflate",
    }),
    key,
    ["chat"],
    true,
  );
  assertEquals([r.protocol, r.extensions, r.deflate?.clientMaxWindowBits], [
    "chat",
    "permessage-deflate",
    15,
  ]);
});

Deno.test("a client fails the handshake on a bad status, Upgrade, Connection or accept key", async () => {
  const key = generateKey();
  await failsWith(1002, validateResponse(200, await response(key), key));
  await failsWith(1002, validateResponse(101, await response(key, { upgrade: null }), key));
  await failsWith(
    1002,
    validateResponse(101, await response(key, { upgrade: "websocket, h2c" }), key),
  );
  await failsWith(1002, validateResponse(101, await response(key, { connection: "close" }), key));
  await failsWith(
    1002,
    validateResponse(101, await response(key, { "sec-websocket-accept": null }), key),
  );
  await failsWith(1002, validateResponse(101, await response(generateKey()), key));
});

Deno.test("a client fails the handshake on a subprotocol it did not offer", async () => {
  const key = generateKey();
  await failsWith(
    1002,
    validateResponse(101, await response(key, { "sec-websocket-protocol": "x" }), key, ["chat"]),
  );
  await failsWith(
    1002,
    validateResponse(101, await response(key, { "sec-websocket-protocol": "x" }), key),
  );
});

Deno.test("a client fails with 1010 on extensions it did not offer", async () => {
  const key = generateKey();
  const h = await response(key, { "sec-websocket-extensions": "permessage-deflate" });
  await failsWith(1010, validateResponse(101, h, key, [], null));
  const bad = await response(key, {
    "sec-websocket-extensions": "permessage-deflate; server_max_window_bits=16",
  });
  await failsWith(1010, validateResponse(101, bad, key, [], true));
});

Deno.test("the client's request headers carry key, version, protocols and the deflate offer", () => {
  const h = clientRequestHeaders(KEY, {
    protocols: ["a", "b"],
    deflate: { serverNoContextTakeover: true },
  });
  assertEquals(h.get("sec-websocket-key"), KEY);
  assertEquals(h.get("sec-websocket-version"), "13");
  assertEquals(h.get("sec-websocket-protocol"), "a, b");
  assertEquals(
    h.get("sec-websocket-extensions"),
    "permessage-deflate; server_no_context_takeover; client_max_window_bits",
  );
  assertEquals(clientRequestHeaders(KEY).get("sec-websocket-extensions"), null);
  assertThrows(() => clientRequestHeaders(KEY, { protocols: ["a b"] }), TypeError);
  assertThrows(() => clientRequestHeaders(KEY, { protocols: ["a", "a"] }), TypeError);
});

Deno.test("a handshake run through both sides agrees on protocol and compression", async () => {
  for (const deflate of [false, true, { clientMaxWindowBits: 10, serverNoContextTakeover: true }]) {
    const key = generateKey();
    const req = clientRequestHeaders(key, { protocols: ["chat"], deflate });
    req.set("host", "localhost");
    const a = accepted(
      validateRequest("GET", req, { protocols: ["chat"], deflate: { clientMaxWindowBits: 12 } }),
    );
    const r = await validateResponse(101, await acceptHeaders(a), key, ["chat"], deflate);
    assertEquals(r.protocol, "chat");
    assertEquals(r.deflate, a.deflate);
  }
});
