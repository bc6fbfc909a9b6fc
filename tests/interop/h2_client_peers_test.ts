/**
 * Our client against `nghttpd` (Debian `nghttp2-server`): over TLS with ALPN and over
 * cleartext by prior knowledge, with default and tuned receive windows. nghttpd's verbose
 * log shows the HTTP/2 frames our client sent. (Our client against `node:http2`, TLS and
 * cleartext, is in client_peers_test.ts.) Skipped when nghttpd is not installed.
 */
import { assertEquals, assertMatch } from "@std/assert";
import { Client, HTTP2Settings } from "../../client/mod.ts";
import { ProxyConfig } from "../../client/proxy.ts";
import { CA } from "../_fixtures.ts";
import { freePort, haveAll, pattern, retry, startPeer, tempDir } from "./_h2_peers.ts";

const found = await haveAll("nghttpd");
const MiB = 1024 * 1024;

/** Starts nghttpd on a free loopback port serving `dir`, and waits until it answers `c`. */
async function nghttpd(dir: string, certs: { key: string; cert: string } | null, c: Client) {
  const port = await freePort();
  const args = ["-v", "-a", "127.0.0.1", "-d", dir];
  const peer = startPeer(
    "nghttpd",
    certs ? [...args, String(port), certs.key, certs.cert] : [...args, "--no-tls", String(port)],
  );
  const origin = `${certs ? "https://localhost" : "http://127.0.0.1"}:${port}`;
  try {
    await retry(async () => {
      const res = await c.request("GET", `${origin}/ready.txt`, {
        protocol: certs ? "auto" : "h2",
      });
      assertEquals(await res.text(), "ready");
    });
  } catch (e) {
    await peer[Symbol.asyncDispose]();
    throw new Error(`nghttpd did not answer: ${peer.output()}`, { cause: e });
  }
  return { peer, origin };
}

for (const tls of [true, false]) {
  for (const tuned of [false, true]) {
    const size = tuned ? 6 * MiB + 3 : 300_000;
    Deno.test({
      name: `h2 interop: our client gets ${size} bytes from nghttpd ${
        tls ? "over TLS (ALPN h2)" : "by prior knowledge"
      }${tuned ? " with 1 MiB / 2 MiB windows" : " with default windows"}`,
      ignore: !found.nghttpd,
      async fn() {
        await using dir = await tempDir();
        const www = `${dir.path}/www`;
        await import("node:fs/promises").then((fs) => fs.mkdir(www));
        await dir.write("www/ready.txt", "ready");
        const bytes = pattern(size);
        await dir.write("www/file.bin", bytes);
        await using c = new Client({
          proxy: new ProxyConfig(),
          caCerts: [CA],
          http2Settings: tuned
            ? new HTTP2Settings({ initialWindowSize: 1 << 20, connectionWindowSize: 1 << 21 })
            : undefined,
        });
        const { peer, origin } = await nghttpd(www, tls ? dir : null, c);
        await using _ = peer;
        const res = await c.request("GET", `${origin}/file.bin`, {
          protocol: tls ? "auto" : "h2",
        });
        assertEquals(res.status, 200);
        const got = new Uint8Array(await res.arrayBuffer());
        assertEquals(got.byteLength, size);
        assertEquals(got, bytes);
        const log = peer.output();
        // nghttpd's log shows our HTTP/2 frames: the request on a stream, and for the tuned
        // client the window it was given.
        assertMatch(log, /recv HEADERS frame <length=\d+, flags=0x0[5d], stream_id=\d+>/);
        assertMatch(log, /:path: \/file\.bin/);
        if (tuned) {
          assertMatch(log, /SETTINGS_INITIAL_WINDOW_SIZE\(0x04\):1048576/);
          // The connection window raised from 65535 to 2 MiB at once.
          assertMatch(
            log,
            /recv WINDOW_UPDATE frame <length=4, flags=0x00, stream_id=0>\s*\(window_size_increment=2031617\)/,
          );
        }
        assertMatch(log, /SETTINGS_ENABLE_PUSH\(0x02\):0/);
        assertEquals(c.transport.stats().connections, 1);
      },
    });
  }
}
