/**
 * An idle pooled HTTP/2 client connection must not keep the process alive (as HTTP/1.1's
 * pool and `fetch` do not); a busy one must. Only visible from outside the process: a child
 * Deno process makes the requests, and the test watches whether it exits on its own.
 */

import { assertEquals } from "@std/assert";
import { listen } from "../../server/mod.ts";
import type { Stream } from "../../server/stream.ts";
import { untilAborted } from "./_server.ts";

const CAN_SPAWN = typeof Deno.Command === "function" && typeof Deno.execPath === "function";

/** `/hello` answers at once; `/hold` answers only once the test is over. */
async function handler(stream: Stream): Promise<void> {
  if (stream.request.target === "/hold") return await untilAborted(stream);
  await stream.respond(200, { "content-type": "text/plain" });
  await stream.write(new TextEncoder().encode("hello"));
  await stream.end();
}

/**
 * Runs a child that requests `paths` one after another over prior-knowledge HTTP/2 with
 * one `Client` it never closes, printing each body; whether it exits within 4 s.
 */
async function childExits(
  port: number,
  paths: string[],
  wait: string,
): Promise<{ exited: boolean; out: string }> {
  const mod = new URL("../../client/mod.ts", import.meta.url).href;
  const script = `import { Client } from "${mod}";
    const client = new Client();
    for (const path of ${JSON.stringify(paths)}) {
      const response = client.request("GET", "http://127.0.0.1:${port}" + path, { protocol: "h2" });
      // Not awaited: a pending top-level await alone keeps Deno running, busy or not.
      if (path === "/hold") { console.log("${wait}"); response.then(() => console.log("answered")); }
      else console.log(await (await response).text());
    }`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const exited = child.status.then(() => true);
  const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), 4000));
  const result = await Promise.race([exited, timeout]);
  if (!result) child.kill();
  const output = await child.output();
  return { exited: result, out: new TextDecoder().decode(output.stdout).trim() };
}

Deno.test({
  name:
    "h2 client: an idle pooled connection lets the process exit; one with a request in flight keeps it alive",
  ignore: !CAN_SPAWN,
  fn: async () => {
    const server = await listen("127.0.0.1", 0, handler);
    try {
      // Two requests reuse the pooled connection (busy, idle, busy, idle), then the script
      // ends with the connection idle in the pool: the process must exit on its own.
      const idle = await childExits(server.port, ["/hello", "/hello"], "");
      assertEquals(idle.out, "hello\nhello");
      assertEquals(idle.exited, true, "an idle h2 connection kept the process alive");
      // A request in flight (after the connection was idle once): the process must stay.
      const busy = await childExits(server.port, ["/hello", "/hold"], "waiting");
      assertEquals(busy.out, "hello\nwaiting");
      assertEquals(busy.exited, false, "a busy h2 connection let the process exit");
    } finally {
      await server.forceClose();
    }
  },
});
