import { assert, assertEquals, assertRejects, assertThrows } from "@std/assert";
import { connectThroughProxy, proxyAuthorization, ProxyConfig } from "../../client/proxy.ts";
import { ProxyError } from "../../client/errors.ts";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import process from "node:process";
import { listen } from "../../conn/listen.ts";
import { CA, CERT, KEY } from "../_fixtures.ts";
import { countingServe, decoder, delay, encoder, rawServer, testClient } from "./_helpers.ts";
import { startTestProxy } from "./_proxy.ts";

// ---- ProxyConfig ----

Deno.test("proxy: new ProxyConfig() sends nothing through a proxy", () => {
  const none = new ProxyConfig();
  assertEquals(none.proxyFor("http://example.com/"), null);
  assertEquals(none.proxyFor("https://example.com/"), null);
});

Deno.test("proxy: http and https URLs use their own proxies; a scheme-less proxy is http://", () => {
  const config = new ProxyConfig({ http: "proxy-a:3128", https: "https://proxy-b:8443" });
  assertEquals(config.proxyFor("http://example.com/")?.href, "http://proxy-a:3128/");
  assertEquals(config.proxyFor("ws://example.com/")?.href, "http://proxy-a:3128/");
  assertEquals(config.proxyFor(new URL("https://example.com/"))?.href, "https://proxy-b:8443/");
  assertEquals(config.proxyFor("wss://example.com/")?.href, "https://proxy-b:8443/");
  assertEquals(new ProxyConfig({ http: "p:1" }).proxyFor("https://example.com/"), null);
});

Deno.test("proxy: only http:// and https:// proxies are accepted", () => {
  assertThrows(() => new ProxyConfig({ https: "socks5://p:1080" }), TypeError, "socks5:");
});

Deno.test("proxy: noProxy * bypasses the proxy for every host", () => {
  const config = new ProxyConfig({ http: "http://p:1", noProxy: "*" });
  assertEquals(config.proxyFor("http://example.com/"), null);
});

Deno.test("proxy: noProxy domains match themselves and their subdomains, with or without a dot", () => {
  const config = new ProxyConfig({
    http: "http://p:1",
    noProxy: "example.com, .internal.test,*.wild.test",
  });
  const direct = (url: string) => config.proxyFor(url) === null;
  assert(direct("http://example.com/"));
  assert(direct("http://api.example.com/"));
  assert(direct("http://EXAMPLE.COM/"));
  assert(!direct("http://badexample.com/"));
  assert(direct("http://internal.test/"));
  assert(direct("http://a.b.internal.test/"));
  assert(direct("http://x.wild.test/"));
  assert(!direct("http://other.test/"));
});

Deno.test("proxy: noProxy host:port entries match that port only, default ports included", () => {
  const config = new ProxyConfig({
    http: "http://p:1",
    https: "http://p:1",
    noProxy: ["localhost:8080", "secure.test:443"],
  });
  assertEquals(config.proxyFor("http://localhost:8080/"), null);
  assert(config.proxyFor("http://localhost:9090/") !== null);
  assertEquals(config.proxyFor("https://secure.test/"), null);
  assert(config.proxyFor("http://secure.test/") !== null);
});

Deno.test("proxy: noProxy IP addresses, IPv4 CIDR blocks and IPv6 literals", () => {
  const config = new ProxyConfig({
    http: "http://p:1",
    noProxy: "127.0.0.1,10.0.0.0/8,::1,[fe80::1]:8080",
  });
  const direct = (url: string) => config.proxyFor(url) === null;
  assert(direct("http://127.0.0.1:3000/"));
  assert(!direct("http://127.0.0.2/"));
  assert(direct("http://10.1.2.3/"));
  assert(!direct("http://11.0.0.1/"));
  assert(direct("http://[::1]:8000/"));
  assert(direct("http://[0:0:0:0:0:0:0:1]/"));
  assert(direct("http://[fe80::1]:8080/"));
  assert(!direct("http://[fe80::1]:8081/"));
});

Deno.test("proxy: noProxy IPv6 CIDR blocks match their prefix, to the bit", () => {
  const config = new ProxyConfig({ http: "http://p:1", noProxy: "fd00::/8,2001:db8::/33,::1/128" });
  const direct = (url: string) => config.proxyFor(url) === null;
  assert(direct("http://[fd12:3456::1]/"));
  assert(!direct("http://[fe00::1]/"));
  assert(direct("http://[2001:db8:7fff::1]/"));
  assert(!direct("http://[2001:db8:8000::1]/")); // the 33rd bit differs
  assert(direct("http://[::1]:8080/"));
  assert(!direct("http://[::2]/"));
  assert(!direct("http://10.0.0.1/"));
});

Deno.test("proxy: a fully qualified name's trailing dot does not keep it from matching", () => {
  const config = new ProxyConfig({ http: "http://p:1", noProxy: "example.com,corp.test." });
  const direct = (url: string) => config.proxyFor(url) === null;
  assert(direct("http://example.com./"));
  assert(direct("http://api.example.com./"));
  assert(direct("http://corp.test/"));
  assert(direct("http://a.corp.test./"));
  assert(!direct("http://other.test./"));
});

Deno.test("proxy: fromEnv prefers lower-case names, skips empty values, reads NO_PROXY", () => {
  const config = ProxyConfig.fromEnv({
    http_proxy: "http://lower:1",
    HTTP_PROXY: "http://upper:1",
    https_proxy: "",
    HTTPS_PROXY: "http://secure:2",
    NO_PROXY: "skip.test",
  });
  assertEquals(config.http?.host, "lower:1");
  assertEquals(config.https?.host, "secure:2");
  assertEquals(config.noProxy, ["skip.test"]);
  assertEquals(config.proxyFor("http://skip.test/"), null);
  const fn = ProxyConfig.fromEnv((name) => name === "HTTP_PROXY" ? "upper:3" : undefined);
  assertEquals(fn.http?.href, "http://upper:3/");
});

Deno.test("proxy: fromEnv ignores HTTP_PROXY in a CGI environment (REQUEST_METHOD set)", () => {
  const config = ProxyConfig.fromEnv({ REQUEST_METHOD: "GET", HTTP_PROXY: "http://evil:1" });
  assertEquals(config.http, null);
});

Deno.test("proxy: fromEnv() reads the process environment", () => {
  const saved = Deno.env.get("https_proxy");
  Deno.env.set("https_proxy", "http://from-env:3128");
  try {
    assertEquals(ProxyConfig.fromEnv().https?.host, "from-env:3128");
  } finally {
    if (saved === undefined) Deno.env.delete("https_proxy");
    else Deno.env.set("https_proxy", saved);
  }
});

Deno.test("proxy: proxyAuthorization encodes the proxy URL's credentials as Basic", () => {
  assertEquals(proxyAuthorization(new URL("http://proxy/")), undefined);
  assertEquals(
    proxyAuthorization(new URL("http://u%40x:p%3Aw@proxy/")),
    "Basic " + btoa("u@x:p:w"),
  );
  assertEquals(
    proxyAuthorization(new URL("http://%C3%A9:pw@proxy/")),
    "Basic " + btoa("\u00c3\u00a9:pw"),
  );
});

// ---- through our test proxy ----

Deno.test("proxy: http:// goes through a forward proxy in absolute form, with Basic credentials", async () => {
  await using server = await countingServe((req) =>
    new Response(`via proxy ${new URL(req.url).pathname} ${req.headers.has("proxy-authorization")}`)
  );
  await using proxy = await startTestProxy({ auth: "user:pa ss" });
  await using client = testClient({
    proxy: new ProxyConfig({ http: proxy.url("user:pa%20ss") }),
  });
  const res = await client.get(`${server.origin}/path?x=1`);
  assertEquals(await res.text(), "via proxy /path false");
  assertEquals(proxy.requests[0].target, `${server.origin}/path?x=1`);
  assertEquals(proxy.requests[0].authorization, "Basic " + btoa("user:pa ss"));
  assertEquals(proxy.requests[0].allowed, true);
});

Deno.test("proxy: a forward proxy's 407 is returned as the response", async () => {
  await using server = await countingServe(() => new Response("secret"));
  await using proxy = await startTestProxy({ auth: "user:right" });
  await using client = testClient({ proxy: new ProxyConfig({ http: proxy.url("user:wrong") }) });
  const res = await client.get(server.origin);
  assertEquals(res.status, 407);
  await res.body?.cancel();
  assertEquals(server.connections, 0);
});

Deno.test("proxy: https:// goes through a CONNECT tunnel with TLS to the target inside it", async () => {
  await using server = await countingServe(() => new Response("tunnelled"), {
    tls: { cert: CERT, key: KEY, alpnProtocols: ["http/1.1"] },
  });
  await using proxy = await startTestProxy({ auth: "a:b" });
  await using client = testClient({
    caCerts: [CA],
    proxy: new ProxyConfig({ https: proxy.url("a:b") }),
  });
  const url = `https://localhost:${server.port}/`;
  assertEquals(await (await client.get(url)).text(), "tunnelled");
  assertEquals(await (await client.get(url)).text(), "tunnelled");
  assertEquals(proxy.requests.map((r) => [r.method, r.target, r.allowed]), [
    ["CONNECT", `localhost:${server.port}`, true],
  ]);
  assertEquals(server.connections, 1, "the tunnel is kept and reused");
});

Deno.test("proxy: a refused CONNECT fails with ProxyError and its status", async () => {
  await using proxy = await startTestProxy({ auth: "a:b" });
  await using client = testClient({ proxy: new ProxyConfig({ https: proxy.url() }) });
  const error = await assertRejects(() => client.get("https://localhost:1/"), ProxyError);
  assertEquals(error.status, 407);
});

Deno.test("proxy: noProxy hosts are reached directly", async () => {
  await using server = await countingServe(() => new Response("direct"));
  await using proxy = await startTestProxy();
  await using client = testClient({
    proxy: new ProxyConfig({ http: proxy.url(), noProxy: "127.0.0.1" }),
  });
  assertEquals(await (await client.get(server.origin)).text(), "direct");
  assertEquals(proxy.accepted, 0);
});

Deno.test("proxy: connectThroughProxy gives a plain tunnel that carries any protocol", async () => {
  await using echo = await rawServer(async ({ conn }) => {
    for (let c = await conn.read(); c !== null; c = await conn.read()) await conn.write(c);
  });
  await using proxy = await startTestProxy();
  const tunnel = await connectThroughProxy("127.0.0.1", echo.port, proxy.url());
  await tunnel.write(encoder.encode("ping"));
  assertEquals(decoder.decode((await tunnel.read())!), "ping");
  tunnel.close();
  assertEquals(proxy.requests[0].target, `127.0.0.1:${echo.port}`);
});

Deno.test("proxy: an https:// proxy is reached over TLS for forward proxying", async () => {
  await using server = await countingServe(() => new Response("via a TLS proxy"));
  await using proxy = await startTestProxy({ auth: "u:p", tls: { cert: CERT, key: KEY } });
  await using client = testClient({
    caCerts: [CA],
    proxy: new ProxyConfig({ http: proxy.url("u:p") }),
  });
  assertEquals(await (await client.get(server.origin)).text(), "via a TLS proxy");
  assertEquals(proxy.requests[0].allowed, true);
});

Deno.test("proxy: https:// through an https:// proxy is refused with a clear error", async () => {
  await using proxy = await startTestProxy({ tls: { cert: CERT, key: KEY } });
  await using client = testClient({
    caCerts: [CA],
    proxy: new ProxyConfig({ https: proxy.url() }),
  });
  await assertRejects(() => client.get("https://localhost:1/"), Error, "https:// proxy");
});

// ---- a real proxy: tinyproxy ----

/** The path of an executable on PATH (or in /usr/sbin), or `null`. */
function findBinary(name: string): string | null {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/bin", "/usr/sbin"]);
  for (const dir of dirs) {
    if (dir && fs.existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

const TINYPROXY = findBinary("tinyproxy");

async function freePort(): Promise<number> {
  const l = await listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/**
 * Runs tinyproxy in the foreground on a free loopback port, with Basic auth `user:secret`.
 * The port was free a moment before tinyproxy binds it; a test running beside this one may
 * take it in between (tinyproxy then exits), so a few ports are tried.
 */
async function startTinyproxy() {
  for (let attempt = 1;; attempt++) {
    const started = await tryTinyproxy(await freePort());
    if (started !== null) return started;
    if (attempt === 5) throw new Error("tinyproxy exited at start, five ports in a row");
  }
}

/** tinyproxy on `port`, or `null` if it exits before it listens. */
async function tryTinyproxy(port: number) {
  const dir = fs.mkdtempSync(`${os.tmpdir()}/tinyproxy-`);
  fs.chmodSync(dir, 0o777);
  const conf = `${dir}/tinyproxy.conf`;
  fs.writeFileSync(
    conf,
    [
      `Port ${port}`,
      "Listen 127.0.0.1",
      "Timeout 30",
      "MaxClients 20",
      "Allow 127.0.0.1",
      `LogFile "${dir}/tinyproxy.log"`,
      "LogLevel Info",
      "DisableViaHeader Yes",
      "BasicAuth user secret",
      "", // no ConnectPort line: CONNECT to any port
    ].join("\n"),
  );
  const child = spawn(TINYPROXY!, ["-d", "-c", conf], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Wait for its log to say it listens. (Polling the port with connect() could connect the
  // socket to itself: the port is in the ephemeral range and nothing listens on it yet.)
  const log = `${dir}/tinyproxy.log`;
  for (let i = 0; i < 500; i++) {
    if (fs.existsSync(log) && fs.readFileSync(log, "utf8").includes("Accepting connections")) break;
    if (child.exitCode !== null) {
      fs.rmSync(dir, { recursive: true, force: true });
      return null;
    }
    await delay(10);
  }
  return {
    url: (credentials = "user:secret") => `http://${credentials}@127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

Deno.test({
  name: "proxy: tinyproxy forwards http:// requests with Basic credentials",
  ignore: TINYPROXY === null,
  fn: async () => {
    await using server = await countingServe(async (req) =>
      new Response(`${req.method} ${await req.text()}`)
    );
    await using tiny = await startTinyproxy();
    await using client = testClient({ proxy: new ProxyConfig({ http: tiny.url() }) });
    assertEquals(
      await (await client.post(`${server.origin}/a`, { body: "one" })).text(),
      "POST one",
    );
    assertEquals(await (await client.get(`${server.origin}/b`)).text(), "GET ");
    await using denied = testClient({ proxy: new ProxyConfig({ http: tiny.url("user:bad") }) });
    const res = await denied.get(server.origin);
    // tinyproxy 1.11 answers wrong credentials with 401, missing ones with 407
    assert([401, 407].includes(res.status), `status ${res.status}`);
    await res.body?.cancel();
  },
});

Deno.test({
  name: "proxy: tinyproxy tunnels https:// with CONNECT, and refuses bad credentials",
  ignore: TINYPROXY === null,
  fn: async () => {
    await using server = await countingServe(() => new Response("over tinyproxy"), {
      tls: { cert: CERT, key: KEY },
    });
    await using tiny = await startTinyproxy();
    await using client = testClient({
      caCerts: [CA],
      proxy: new ProxyConfig({ https: tiny.url() }),
    });
    const url = `https://localhost:${server.port}/`;
    assertEquals(await (await client.get(url)).text(), "over tinyproxy");
    assertEquals(await (await client.get(url)).text(), "over tinyproxy");
    assertEquals(server.connections, 1);
    await using denied = testClient({
      caCerts: [CA],
      proxy: new ProxyConfig({ https: tiny.url("user:bad") }),
    });
    const error = await assertRejects(() => denied.get(url), ProxyError);
    assert([401, 407].includes(error.status), `status ${error.status}`);
  },
});
