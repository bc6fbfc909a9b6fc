/**
 * Real HTTP/2 clients against our server: curl (`--http2` over TLS with ALPN, and
 * `--http2-prior-knowledge` on cleartext), nghttp and h2load. Each test is skipped (not
 * passed) when its peer is not installed (Debian `curl`, `nghttp2-client`).
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import { serve } from "../../server/serve.ts";
import type { Handler } from "../../server/stream_handler.ts";
import { run } from "./_process.ts";
import { haveAll, pattern, tempDir } from "./_h2_peers.ts";
import { CERT, KEY } from "../_fixtures.ts";

const found = await haveAll("curl", "nghttp", "h2load");
const MiB = 1024 * 1024;

/** Our server on loopback (TLS or cleartext) recording the protocol of each request it saw. */
async function ourServer(tls: boolean, handler: Handler) {
  const protocols: string[] = [];
  const server = await serve("127.0.0.1", 0, (req, info) => {
    protocols.push(info.protocol);
    return handler(req, info);
  }, tls ? { tls: { cert: CERT, key: KEY } } : {});
  const origin = `${tls ? "https://localhost" : "http://127.0.0.1"}:${server.port}`;
  return { server, origin, protocols };
}

/** Answers `GET /` with "hello h2", `POST /echo` with the upload's length, `/big?n=` with n bytes. */
const app: Handler = async (req) => {
  const url = new URL(req.url);
  if (url.pathname === "/echo") {
    let n = 0;
    for await (const chunk of req.body!) n += chunk.byteLength;
    return new Response(`${req.method} ${n}`);
  }
  if (url.pathname === "/big") return new Response(pattern(Number(url.searchParams.get("n"))));
  return new Response("hello h2");
};

for (const tls of [true, false]) {
  const how = tls ? "curl --http2 over TLS (ALPN)" : "curl --http2-prior-knowledge on cleartext";
  const flags = (caFile: string) =>
    tls ? ["--http2", "--cacert", caFile] : ["--http2-prior-knowledge"];

  Deno.test({
    name: `h2 interop: ${how}: GET`,
    ignore: !found.curl,
    async fn() {
      await using dir = await tempDir();
      const { server, origin, protocols } = await ourServer(tls, app);
      await using _ = server;
      const { code, stdout, stderr } = await run("curl", [
        "-sS",
        ...flags(dir.ca),
        "-w",
        "\n%{http_version}",
        `${origin}/`,
      ]);
      assertEquals(code, 0, stderr);
      assertEquals(stdout, "hello h2\n2");
      assertEquals(protocols, ["HTTP/2"]);
    },
  });

  Deno.test({
    name: `h2 interop: ${how}: POST of 5 MiB is read in full`,
    ignore: !found.curl,
    async fn() {
      await using dir = await tempDir();
      const file = await dir.write("upload.bin", pattern(5 * MiB + 17));
      const { server, origin, protocols } = await ourServer(tls, app);
      await using _ = server;
      const { code, stdout, stderr } = await run("curl", [
        "-sS",
        ...flags(dir.ca),
        "--data-binary",
        `@${file}`,
        `${origin}/echo`,
      ]);
      assertEquals(code, 0, stderr);
      assertEquals(stdout, `POST ${5 * MiB + 17}`);
      assertEquals(protocols, ["HTTP/2"]);
    },
  });
}

Deno.test({
  name: "h2 interop: nghttp -nv sees SETTINGS and a 200 from our cleartext server",
  ignore: !found.nghttp,
  async fn() {
    const { server, origin, protocols } = await ourServer(false, app);
    await using _ = server;
    const { code, stdout, stderr } = await run("nghttp", ["-nv", `${origin}/`]);
    assertEquals(code, 0, stderr + stdout);
    assertMatch(stdout, /recv SETTINGS frame <length=\d+, flags=0x00, stream_id=0>/);
    assertMatch(stdout, /recv SETTINGS frame <length=0, flags=0x01, stream_id=0>/); // our ACK
    assertMatch(stdout, /recv \(stream_id=\d+\) :status: 200/);
    assertMatch(stdout, /recv DATA frame <length=8, flags=0x01, stream_id=\d+>/);
    assert(!/GOAWAY.*error_code=(?!NO_ERROR)/.test(stdout), stdout);
    assertEquals(protocols, ["HTTP/2"]);
  },
});

Deno.test({
  name: "h2 interop: nghttp over TLS gets a 200 (stats) and uploads a body with -d",
  ignore: !found.nghttp,
  async fn() {
    await using dir = await tempDir();
    const file = await dir.write("upload.bin", pattern(3 * MiB + 5));
    const { server, origin, protocols } = await ourServer(true, app);
    await using _ = server;
    const stats = await run("nghttp", ["-ns", `${origin}/`]);
    assertEquals(stats.code, 0, stats.stderr + stats.stdout);
    assertMatch(stats.stdout, /\/\s*$/m); // the stats table lists the path
    assertMatch(stats.stdout, /200\s+\d+\S*\s+\/\s*$/m); // ... answered with 200
    const up = await run("nghttp", ["-d", file, `${origin}/echo`]);
    assertEquals(up.code, 0, up.stderr + up.stdout);
    assertEquals(up.stdout, `POST ${3 * MiB + 5}`);
    assertEquals(protocols, ["HTTP/2", "HTTP/2"]);
  },
});

Deno.test({
  name: "h2 interop: a 16 MiB response reaches nghttp with default 65535 windows",
  ignore: !found.nghttp,
  async fn() {
    const n = 16 * MiB;
    const { server, origin } = await ourServer(false, app);
    await using _ = server;
    const { code, stdout, stderr } = await run("nghttp", [
      "-w",
      "16",
      "-W",
      "16",
      `${origin}/big?n=${n}`,
    ]);
    assertEquals(code, 0, stderr);
    assertEquals(stdout.length, n);
    assertEquals(stdout, new TextDecoder().decode(pattern(n)));
  },
});

for (const tls of [false, true]) {
  Deno.test({
    name: `h2 interop: h2load -n 2000 -c 4 -m 10 against our ${tls ? "TLS" : "cleartext"} server`,
    ignore: !found.h2load,
    async fn() {
      const { server, origin, protocols } = await ourServer(tls, app);
      await using _ = server;
      const { code, stdout, stderr } = await run("h2load", [
        "-n",
        "2000",
        "-c",
        "4",
        "-m",
        "10",
        `${origin}/`,
      ]);
      assertEquals(code, 0, stderr + stdout);
      const m = stdout.match(
        /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/,
      );
      if (!m) throw new Error(`no summary line in h2load output:\n${stdout}`);
      assertEquals(m.slice(1).map(Number), [2000, 2000, 2000, 2000, 0, 0, 0], stdout);
      assertMatch(stdout, /status codes: 2000 2xx/);
      if (tls) assertMatch(stdout, /Application protocol: h2/);
      assertEquals(protocols.length, 2000);
      assert(protocols.every((p) => p === "HTTP/2"));
    },
  });
}
