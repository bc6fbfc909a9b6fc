import { assertEquals, assertRejects } from "@std/assert";
import type { Conn } from "../../conn/types.ts";
import { nodeListen } from "../../conn/_node.ts";
import { adapters } from "./_adapters.ts";
import { CA, CERT, KEY, text, utf8 } from "../_fixtures.ts";

async function readAll(conn: Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let c = await conn.read(); c; c = await conn.read()) {
    parts.push(c);
    size += c.byteLength;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) out.set(p, (at += p.byteLength) - p.byteLength);
  return out;
}

for (const { name, connect, listen } of adapters) {
  Deno.test(`${name}: bytes written on one end arrive in order on the other, then end`, async () => {
    const listener = await listen({ hostname: "127.0.0.1", port: 0 });
    const serverSide = (async () => {
      const conn = (await listener.accept())!;
      const got = await readAll(conn);
      await conn.write(got.reverse());
      conn.close();
    })();
    const conn = await connect({ hostname: "127.0.0.1", port: listener.addr.port });
    assertEquals(conn.remoteAddr.port, listener.addr.port);
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    await conn.write(big);
    await conn.closeWrite();
    const back = await readAll(conn);
    assertEquals(back.byteLength, big.byteLength);
    assertEquals(back[0], big[big.length - 1]);
    assertEquals(back[back.length - 1], big[0]);
    conn.close();
    await serverSide;
    listener.close();
  });

  Deno.test(`${name}: TLS negotiates the server's preferred ALPN protocol`, async () => {
    const listener = await listen({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: CERT, key: KEY, alpnProtocols: ["h2", "http/1.1"] },
    });
    const serverSide = (async () => {
      const conn = (await listener.accept())!;
      assertEquals(conn.alpnProtocol, "h2");
      assertEquals(conn.secure, true);
      await conn.write(utf8("hello over tls"));
      await conn.closeWrite();
      await readAll(conn);
      conn.close();
    })();
    const conn = await connect({
      hostname: "localhost",
      port: listener.addr.port,
      tls: { caCerts: [CA], alpnProtocols: ["http/1.1", "h2"] },
    });
    assertEquals(conn.alpnProtocol, "h2");
    assertEquals(text(await readAll(conn)), "hello over tls");
    await conn.closeWrite();
    conn.close();
    await serverSide;
    listener.close();
  });

  Deno.test(`${name}: TLS to an untrusted certificate is refused`, async () => {
    const listener = await listen({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: CERT, key: KEY },
    });
    await assertRejects(() =>
      connect({ hostname: "localhost", port: listener.addr.port, tls: {} })
    );
    listener.close();
  });

  Deno.test(`${name}: connecting to a closed port rejects`, async () => {
    const listener = await listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    await new Promise((r) => setTimeout(r, 20));
    await assertRejects(() => connect({ hostname: "127.0.0.1", port }));
  });

  Deno.test(`${name}: an aborted connect rejects with the signal's reason`, async () => {
    const controller = new AbortController();
    const reason = new Error("gave up");
    controller.abort(reason);
    const listener = await listen({ hostname: "127.0.0.1", port: 0 });
    const error = await assertRejects(() =>
      connect({ hostname: "127.0.0.1", port: listener.addr.port, signal: controller.signal })
    );
    assertEquals(error, reason);
    listener.close();
  });

  Deno.test(`${name}: a closed listener's accept resolves null`, async () => {
    const listener = await listen({ hostname: "127.0.0.1", port: 0 });
    const pending = listener.accept();
    listener.close();
    assertEquals(await pending, null);
  });
}

// Whether an open connection keeps the process alive is only visible from outside it: a child
// Deno process connects, and the test watches whether it exits on its own.
const CAN_SPAWN = typeof Deno.Command === "function" && typeof Deno.execPath === "function";
for (const adapter of ["_deno.ts", "_node.ts"]) {
  const connectFn = adapter === "_deno.ts" ? "denoConnect" : "nodeConnect";
  const childExits = async (port: number, unref: boolean): Promise<boolean> => {
    const url = new URL(`../../conn/${adapter}`, import.meta.url).href;
    const script = `import { ${connectFn} } from "${url}";
      const conn = await ${connectFn}({ hostname: "127.0.0.1", port: ${port} });
      ${unref ? "conn.unref(); conn.ref(); conn.unref();" : ""}
      conn.read(); // an idle connection waiting for bytes, as a pooled keep-alive one is
      console.log("connected");`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", script],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const exited = child.status.then(() => true);
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), 4000));
    const result = await Promise.race([exited, timeout]);
    if (!result) child.kill();
    const out = new TextDecoder().decode((await child.output()).stdout);
    assertEquals(out.trim(), "connected");
    return result;
  };

  Deno.test({
    name: `${adapter}: an unref'd connection lets the process exit; a ref'd one keeps it alive`,
    ignore: !CAN_SPAWN,
    fn: async () => {
      const listener = await nodeListen({ hostname: "127.0.0.1", port: 0 });
      const held: Conn[] = [];
      const accepting = (async () => {
        for await (const conn of listener) held.push(conn);
      })();
      try {
        assertEquals(await childExits(listener.addr.port, true), true);
        assertEquals(await childExits(listener.addr.port, false), false);
      } finally {
        listener.close();
        for (const conn of held) conn.close();
        await accepting;
      }
    },
  });
}
