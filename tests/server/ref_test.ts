/**
 * `server.unref()` / `ref()`, as `Deno.HttpServer`'s: an unref'd server, its listener and its
 * open connections (HTTP/1.1 keep-alive and HTTP/2) let the process exit. Only visible from
 * outside the process: a child Deno process serves, and the test watches whether it exits.
 */

import { assertEquals, assertRejects } from "@std/assert";
import { serve } from "../../server/serve.ts";
import { connect } from "../../conn/connect.ts";
import { RawPeer } from "../http2/_frames.ts";
import { text, utf8 } from "../_fixtures.ts";

const CAN_SPAWN = typeof Deno.Command === "function" && typeof Deno.execPath === "function";

/**
 * Runs a child that serves and, on `GET /go`, calls `calls` on its server (e.g. `unref()`);
 * holds an HTTP/2 connection and an HTTP/1.1 keep-alive connection open to it; whether the
 * child exits within 3 s.
 */
async function childExits(calls: string): Promise<boolean> {
  const mod = new URL("../../server/mod.ts", import.meta.url).href;
  const script = `import { serve } from "${mod}";
    const server = await serve("127.0.0.1", 0, (request) => {
      if (request.url.endsWith("/go")) setTimeout(() => { ${calls} }, 0);
      return new Response("ok");
    });
    console.log(server.port);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let port = "";
  while (!port.includes("\n")) port += text((await reader.read()).value!);
  reader.releaseLock();
  const h2 = new RawPeer(await connect({ hostname: "127.0.0.1", port: Number(port) }));
  await h2.handshake();
  const h1 = await connect({ hostname: "127.0.0.1", port: Number(port) });
  await h1.write(utf8("GET /go HTTP/1.1\r\nHost: x\r\n\r\n"));
  let answer = "";
  while (!answer.endsWith("ok")) answer += text((await h1.read())!);
  const exited = child.status.then(() => true);
  const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), 3000));
  const result = await Promise.race([exited, timeout]);
  if (!result) child.kill();
  await child.status;
  await child.stdout.cancel().catch(() => {});
  h1.close();
  h2.close();
  return result;
}

Deno.test({
  name: "an unref'd server lets the process exit, open connections and all; a ref'd one does not",
  ignore: !CAN_SPAWN,
  fn: async () => {
    assertEquals(await childExits("server.unref();"), true, "unref() kept the process alive");
    assertEquals(await childExits(""), false, "a server let the process exit by itself");
    assertEquals(
      await childExits("server.unref(); server.ref();"),
      false,
      "ref() after unref() let the process exit",
    );
  },
});

Deno.test("shutdown() closes a server gracefully, as close() does", async () => {
  const server = await serve("127.0.0.1", 0, () => new Response("ok"));
  assertEquals(await (await fetch(`http://127.0.0.1:${server.port}/`)).text(), "ok");
  await server.shutdown();
  await server.finished;
  await assertRejects(() => fetch(`http://127.0.0.1:${server.port}/`)); // no longer listening
});
