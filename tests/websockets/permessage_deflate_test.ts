/** permessage-deflate negotiation (RFC 7692 section 7.1) and the extension header grammar. */
import { assert, assertEquals, assertThrows } from "@std/assert";
import {
  acceptDeflate,
  type DeflateOptions,
  type DeflateParams,
  formatDeflateParams,
  formatExtensions,
  negotiateDeflate,
  offerDeflate,
  parseExtensions,
} from "../../websockets/permessage_deflate.ts";
import { WebSocketError } from "../../websockets/errors.ts";

const DEFAULTS: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

// ---------------------------------------------------------------------------------------
// The header grammar

Deno.test("parseExtensions reads names, parameters, quoted values and several extensions", () => {
  assertEquals(parseExtensions("permessage-deflate"), [{ name: "permessage-deflate", params: [] }]);
  assertEquals(
    parseExtensions(
      ' permessage-deflate ;client_max_window_bits ; server_max_window_bits = "10" , foo;bar=baz',
    ),
    [
      {
        name: "permessage-deflate",
        params: [["client_max_window_bits", true], ["server_max_window_bits", "10"]],
      },
      { name: "foo", params: [["bar", "baz"]] },
    ],
  );
  assertEquals(parseExtensions(", a ,, b,"), [{ name: "a", params: [] }, {
    name: "b",
    params: [],
  }]);
  assertEquals(parseExtensions('x; y="a\\bc"'), [{ name: "x", params: [["y", "abc"]] }]);
  assertEquals(parseExtensions(""), []);
});

Deno.test("parseExtensions rejects malformed headers", () => {
  for (
    const bad of [
      "permessage-deflate;",
      "permessage-deflate; =1",
      "a b",
      'a; b="1 2"', // a quoted value must be a token
      'a; b="unterminated',
      "a; b=",
      "a;; b",
      "(x)",
      "a; b=1 c",
    ]
  ) {
    assertThrows(() => parseExtensions(bad), SyntaxError, undefined, bad);
  }
});

Deno.test("formatExtensions writes what parseExtensions reads", () => {
  const exts = parseExtensions("a; b; c=1, d");
  assertEquals(formatExtensions(exts), "a; b; c=1, d");
  assertEquals(parseExtensions(formatExtensions(exts)), exts);
});

// ---------------------------------------------------------------------------------------
// Client offers

Deno.test("a client offers client_max_window_bits, plus what it is asked to", () => {
  assertEquals(offerDeflate(), "permessage-deflate; client_max_window_bits");
  assertEquals(
    offerDeflate({
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 9,
      clientMaxWindowBits: 12,
    }),
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=12",
  );
  assertThrows(() => offerDeflate({ serverMaxWindowBits: 16 }), RangeError);
  assertThrows(() => offerDeflate({ clientMaxWindowBits: 7 }), RangeError);
});

// ---------------------------------------------------------------------------------------
// Server choices

Deno.test("a server accepts a bare offer with default parameters", () => {
  assertEquals(negotiateDeflate("permessage-deflate"), {
    params: DEFAULTS,
    response: "permessage-deflate",
  });
  assertEquals(negotiateDeflate(null), null);
  assertEquals(negotiateDeflate("x-webkit-deflate-frame"), null);
});

Deno.test("a server echoes server_no_context_takeover and client_no_context_takeover", () => {
  const r = negotiateDeflate(
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
  );
  assertEquals(
    r?.response,
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
  );
  assertEquals(r?.params, {
    ...DEFAULTS,
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
  });
});

Deno.test("a server answers server_max_window_bits with the same or a smaller value", () => {
  for (let n = 8; n <= 15; n++) {
    const r = negotiateDeflate(`permessage-deflate; server_max_window_bits=${n}`);
    assertEquals(r?.response, `permessage-deflate; server_max_window_bits=${n}`);
    assertEquals(r?.params.serverMaxWindowBits, n);
    const smaller = negotiateDeflate(`permessage-deflate; server_max_window_bits=${n}`, {
      serverMaxWindowBits: 10,
    });
    assertEquals(smaller?.params.serverMaxWindowBits, Math.min(n, 10));
  }
});

Deno.test("a server may limit the client's window only when the client allows it", () => {
  const r = negotiateDeflate("permessage-deflate; client_max_window_bits", {
    clientMaxWindowBits: 10,
  });
  assertEquals(r?.response, "permessage-deflate; client_max_window_bits=10");
  assertEquals(r?.params.clientMaxWindowBits, 10);
  const capped = negotiateDeflate("permessage-deflate; client_max_window_bits=9", {
    clientMaxWindowBits: 12,
  });
  assertEquals(capped?.response, "permessage-deflate; client_max_window_bits=9");
  const none = negotiateDeflate("permessage-deflate", { clientMaxWindowBits: 10 });
  assertEquals(none?.response, "permessage-deflate");
  // Without a wish of its own the server leaves the parameter out.
  assertEquals(
    negotiateDeflate("permessage-deflate; client_max_window_bits")?.response,
    "permessage-deflate",
  );
});

Deno.test("a server may impose context-takeover limits the client did not offer", () => {
  const r = negotiateDeflate("permessage-deflate", {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    serverMaxWindowBits: 11,
  });
  assertEquals(
    r?.response,
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11",
  );
});

Deno.test("a server declines offers it cannot accept and takes the first acceptable one", () => {
  const declined = [
    "permessage-deflate; foo", // unknown parameter
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover", // repeated
    "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
    "permessage-deflate; server_no_context_takeover=1", // value where none is allowed
    "permessage-deflate; client_no_context_takeover=true",
    "permessage-deflate; server_max_window_bits", // value required
    "permessage-deflate; server_max_window_bits=7",
    "permessage-deflate; server_max_window_bits=16",
    "permessage-deflate; server_max_window_bits=08", // no leading zeros
    "permessage-deflate; server_max_window_bits=1e1",
    "permessage-deflate; client_max_window_bits=0",
    'permessage-deflate; client_max_window_bits="16"',
  ];
  for (const offer of declined) assertEquals(negotiateDeflate(offer), null, offer);
  const r = negotiateDeflate(
    "permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits=10, permessage-deflate",
  );
  assertEquals(r?.response, "permessage-deflate; server_max_window_bits=10");
  assertEquals(
    negotiateDeflate('permessage-deflate; server_max_window_bits="12"')?.params.serverMaxWindowBits,
    12,
  );
});

Deno.test("a malformed extensions header throws SyntaxError (the server answers 400)", () => {
  assertThrows(() => negotiateDeflate("permessage-deflate; a b"), SyntaxError);
});

// ---------------------------------------------------------------------------------------
// Client checks of the response

function rejects(response: string, options: DeflateOptions | null = {}): void {
  const err = assertThrows(
    () => acceptDeflate(response, options),
    WebSocketError,
    undefined,
    response,
  );
  assertEquals(err.code, 1010);
}

Deno.test("a client accepts a response within its offer", () => {
  assertEquals(acceptDeflate("permessage-deflate", {}), DEFAULTS);
  assertEquals(acceptDeflate(null, {}), null);
  assertEquals(acceptDeflate("", {}), null);
  assertEquals(
    acceptDeflate(
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8",
      {},
    ),
    {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 9,
      clientMaxWindowBits: 8,
    },
  );
  assertEquals(
    acceptDeflate("permessage-deflate", { clientMaxWindowBits: 11 })?.clientMaxWindowBits,
    11,
  );
});

Deno.test("a client that offered client_no_context_takeover keeps to it when the server does not echo it", () => {
  // RFC 7692 7.1.1.2: the offer alone binds the client, whatever the answer says. The
  // handshake fuzz test found the client using context takeover anyway.
  assertEquals(acceptDeflate("permessage-deflate", { clientNoContextTakeover: true }), {
    ...DEFAULTS,
    clientNoContextTakeover: true,
  });
  assertEquals(
    acceptDeflate("permessage-deflate; client_no_context_takeover", {})?.clientNoContextTakeover,
    true,
  );
  assertEquals(acceptDeflate("permessage-deflate", {})?.clientNoContextTakeover, false);
});

Deno.test("a client fails the connection with 1010 on an extension it did not offer", () => {
  rejects("x-foo");
  rejects("permessage-deflate", null);
  rejects("permessage-deflate, permessage-deflate");
  rejects("permessage-deflate, x-foo");
});

Deno.test("a client fails with 1010 on unknown, repeated or ill-valued parameters", () => {
  rejects("permessage-deflate; foo");
  rejects("permessage-deflate; server_no_context_takeover; server_no_context_takeover");
  rejects("permessage-deflate; server_no_context_takeover=1");
  rejects("permessage-deflate; client_no_context_takeover=1");
  rejects("permessage-deflate; server_max_window_bits");
  rejects("permessage-deflate; server_max_window_bits=16");
  rejects("permessage-deflate; client_max_window_bits"); // a value is required in a response
  rejects("permessage-deflate; client_max_window_bits=7");
  rejects("permessage-deflate; a b");
});

Deno.test("a client fails with 1010 on a response that contradicts its offer", () => {
  rejects("permessage-deflate", { serverNoContextTakeover: true });
  rejects("permessage-deflate", { serverMaxWindowBits: 10 });
  rejects("permessage-deflate; server_max_window_bits=11", { serverMaxWindowBits: 10 });
  rejects("permessage-deflate; client_max_window_bits=12", { clientMaxWindowBits: 10 });
  assertEquals(
    acceptDeflate("permessage-deflate; server_max_window_bits=9", { serverMaxWindowBits: 10 })
      ?.serverMaxWindowBits,
    9,
  );
});

// ---------------------------------------------------------------------------------------
// Every combination

Deno.test("for every offer and server policy, the client accepts the server's answer and both agree", () => {
  const bools = [false, true];
  const clientBits = [undefined, 8, 9, 12, 15];
  const serverBits = [undefined, 8, 10, 15];
  let checked = 0;
  for (const snct of bools) {
    for (const cnct of bools) {
      for (const smwb of serverBits) {
        for (const cmwb of clientBits) {
          const offer: DeflateOptions = {
            serverNoContextTakeover: snct,
            clientNoContextTakeover: cnct,
            serverMaxWindowBits: smwb,
            clientMaxWindowBits: cmwb,
          };
          for (
            const policy of [
              {},
              { serverNoContextTakeover: true },
              { clientNoContextTakeover: true },
              { serverMaxWindowBits: 9 },
              { clientMaxWindowBits: 10 },
              { serverMaxWindowBits: 12, clientMaxWindowBits: 8, serverNoContextTakeover: true },
            ] as DeflateOptions[]
          ) {
            const chosen = negotiateDeflate(offerDeflate(offer), policy);
            if (chosen === null) throw new Error(`declined ${offerDeflate(offer)}`);
            const client = acceptDeflate(chosen.response, offer);
            assertEquals(
              client,
              chosen.params,
              `${offerDeflate(offer)} / ${JSON.stringify(policy)}`,
            );
            // The server honours what the client asked for.
            if (snct) assert(chosen.params.serverNoContextTakeover);
            if (smwb !== undefined) assert(chosen.params.serverMaxWindowBits <= smwb);
            if (cmwb !== undefined) assert(chosen.params.clientMaxWindowBits <= cmwb);
            if (policy.serverMaxWindowBits) {
              assert(chosen.params.serverMaxWindowBits <= policy.serverMaxWindowBits);
            }
            checked++;
          }
        }
      }
    }
  }
  assertEquals(checked, 2 * 2 * 4 * 5 * 6);
});

Deno.test("formatDeflateParams writes a response that parses back to the same parameters", () => {
  for (const snct of [false, true]) {
    for (const cnct of [false, true]) {
      for (let s = 8; s <= 15; s++) {
        for (let c = 8; c <= 15; c++) {
          const p = {
            serverNoContextTakeover: snct,
            clientNoContextTakeover: cnct,
            serverMaxWindowBits: s,
            clientMaxWindowBits: c,
          };
          assertEquals(acceptDeflate(formatDeflateParams(p), {}), p);
        }
      }
    }
  }
});
