import { assertEquals } from "@std/assert";
import { serve } from "../../server/serve.ts";
import { run } from "./_process.ts";
import { CA, CERT, KEY } from "../_fixtures.ts";

Deno.test("curl gets a response from our server over HTTP/1.1", async () => {
  await using server = await serve(
    "127.0.0.1",
    0,
    (req) => new Response(`hello ${req.headers.get("user-agent")?.split("/")[0]}`),
  );
  const { code, stdout } = await run("curl", [
    "-sS",
    "--http1.1",
    `http://127.0.0.1:${server.port}/`,
  ]);
  assertEquals(code, 0);
  assertEquals(stdout, "hello curl");
});

Deno.test("curl uploads a chunked body and reads a streamed reply", async () => {
  await using server = await serve("127.0.0.1", 0, async (req) => {
    const body = await req.text();
    return new Response(
      new ReadableStream({
        start(c) {
          for (const piece of [`${body.length}`, ":", body.slice(0, 5)]) {
            c.enqueue(new TextEncoder().encode(piece));
          }
          c.close();
        },
      }),
    );
  });
  const { code, stdout } = await run("curl", [
    "-sS",
    "-H",
    "Transfer-Encoding: chunked",
    "--data-binary",
    "@-",
    `http://127.0.0.1:${server.port}/`,
  ], "x".repeat(100_000));
  assertEquals(code, 0);
  assertEquals(stdout, "100000:xxxxx");
});

Deno.test("curl reuses one keep-alive connection for several URLs", async () => {
  const peers = new Set<number>();
  await using server = await serve("127.0.0.1", 0, (_req, info) => {
    peers.add(info.remoteAddr.port);
    return new Response("k");
  });
  const url = `http://127.0.0.1:${server.port}/`;
  const { code, stdout } = await run("curl", ["-sS", url, url, url]);
  assertEquals(code, 0);
  assertEquals(stdout, "kkk");
  assertEquals(peers.size, 1);
});

Deno.test("curl talks to our TLS server, trusting the test CA", async () => {
  const dir = await import("node:fs/promises").then((fs) => fs.mkdtemp("/tmp/hw-"));
  const caFile = `${dir}/ca.pem`;
  await import("node:fs/promises").then((fs) => fs.writeFile(caFile, CA));
  await using server = await serve(
    "127.0.0.1",
    0,
    (req) => new Response(new URL(req.url).protocol),
    {
      tls: { cert: CERT, key: KEY },
    },
  );
  const { code, stdout, stderr } = await run("curl", [
    "-sS",
    "--http1.1",
    "--cacert",
    caFile,
    `https://localhost:${server.port}/`,
  ]);
  assertEquals(code, 0, stderr);
  assertEquals(stdout, "https:");
});

Deno.test("curl sees a 400 for a request our parser refuses", async () => {
  await using server = await serve("127.0.0.1", 0, () => new Response("ok"));
  const { stdout } = await run("curl", [
    "-sS",
    "-o",
    "/dev/null",
    "-w",
    "%{http_code}",
    "-H",
    "X-Bad : 1",
    `http://127.0.0.1:${server.port}/`,
  ]);
  assertEquals(stdout, "400");
});
