/**
 * HTTP/2 bulk transfer benchmark: a 256 MiB download and a 256 MiB upload against one fixed
 * server (our server on Deno over TLS, ALPN h2, bench/servers/ours_h2_deno.ts), with default
 * windows and with `HTTP2Settings({ initialWindowSize: 1 << 20, connectionWindowSize: 1 << 21 })`
 * on both server and client, for our client, `curl --http2` and Deno's `fetch`.
 *
 * Two server processes (default, tuned), pinned to the last CPU; clients pinned to CPU 0.
 * Each round runs every client once per direction and window setting; reported: median
 * MB/s (MiB/s, 2^20 bytes) and the median of the per-round ratios ours / curl. curl keeps its
 * own receive windows (it cannot be told ours); Deno's fetch (hyper) too.
 *
 * `deno run -A bench/http2_transfer.ts`. Environment: `BENCH_ROUNDS` (default 3),
 * `BENCH_MIB` (default 256), `BENCH_FETCH_UP_MIB` (Deno fetch's upload size, default 16: it
 * is slow), `BENCH_TIMEOUT` seconds per transfer (default 60).
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
const MIB = Number(Deno.env.get("BENCH_MIB") ?? 256);
const FETCH_UP_MIB = Number(Deno.env.get("BENCH_FETCH_UP_MIB") ?? 16);
const TIMEOUT = Number(Deno.env.get("BENCH_TIMEOUT") ?? 60);
const CA = `${ROOT}/tests/fixtures/ca.pem`;

async function output(cmd: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command("timeout", {
      args: [String(TIMEOUT), ...cmd],
      cwd: ROOT,
      stderr: "piped",
    }).output();
    const text = (new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr))
      .trim();
    return { ok: out.success, text };
  } catch (e) {
    return { ok: false, text: String(e) };
  }
}

const cores = navigator.hardwareConcurrency;
const pin = (await output(["taskset", "-V"])).ok && cores >= 2;
const pinned = (cpu: string, cmd: string[]) => pin ? ["taskset", "-c", cpu, ...cmd] : cmd;
const SERVER_CPU = String(cores - 1);
const CLIENT_CPU = "0";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function startServer(tuned: boolean) {
  const port = freePort();
  const cmd = pinned(SERVER_CPU, [
    Deno.execPath(),
    "run",
    "-A",
    "bench/servers/ours_h2_deno.ts",
    String(port),
    "tls",
    ...(tuned ? ["tuned"] : []),
  ]);
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
  }).spawn();
  const origin = `https://localhost:${port}`;
  for (let i = 0; i < 100; i++) {
    const r = await output(["curl", "-sS", "--http2", "--cacert", CA, `${origin}/hello`]);
    if (r.text === "Hello World!") return { child, origin };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("server did not answer");
}

const UPLOAD = await Deno.makeTempFile({ prefix: "h2bench-up-" });
{
  const f = await Deno.open(UPLOAD, { write: true });
  const chunk = new Uint8Array(1 << 20).fill(122);
  for (let i = 0; i < MIB; i++) await f.write(chunk);
  f.close();
}

type Client = "ours" | "curl" | "fetch";
type Dir = "down" | "up";

/** Runs one transfer; returns MiB/s or NaN, and the bytes moved. */
async function transfer(
  who: Client,
  dir: Dir,
  origin: string,
  tuned: boolean,
): Promise<{ mbs: number; bytes: number; err: string }> {
  const bytes = (who === "fetch" && dir === "up" ? FETCH_UP_MIB : MIB) * 1024 * 1024;
  if (who === "curl") {
    const args = dir === "down"
      ? ["-o", "/dev/null", `${origin}/big?n=${bytes}`]
      : ["-o", "/dev/null", "--data-binary", `@${UPLOAD}`, `${origin}/echo`];
    const r = await output(pinned(CLIENT_CPU, [
      "curl",
      "-sS",
      "--http2",
      "--cacert",
      CA,
      "-w",
      "%{http_version} %{size_download} %{size_upload} %{time_total}",
      ...args,
    ]));
    const m = r.text.match(/^2 (\d+) (\d+) ([\d.]+)$/);
    const moved = m ? Number(dir === "down" ? m[1] : m[2]) : 0;
    if (!r.ok || !m || moved !== bytes) return { mbs: NaN, bytes, err: r.text.slice(0, 200) };
    return { mbs: bytes / 1048576 / Number(m[3]), bytes, err: "" };
  }
  const r = await output(pinned(CLIENT_CPU, [
    Deno.execPath(),
    "run",
    "-A",
    "bench/http2_transfer_client.ts",
    who,
    dir,
    origin,
    String(bytes),
    ...(tuned ? ["tuned"] : []),
  ]));
  const m = r.text.match(/^(\d+) ([\d.]+) /m);
  if (!r.ok || !m) {
    return {
      mbs: NaN,
      bytes,
      err: r.ok
        ? r.text.slice(0, 200)
        : `failed or timed out after ${TIMEOUT} s: ${r.text.slice(0, 200)}`,
    };
  }
  return { mbs: bytes / 1048576 / Number(m[2]), bytes, err: "" };
}

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const log = (msg: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

const started = new Date();
const commit = (await output(["git", "rev-parse", "--short", "HEAD"])).text;
const servers = { default: await startServer(false), tuned: await startServer(true) };
const samples = new Map<string, number[]>();
const errors: string[] = [];
try {
  for (let round = 0; round <= ROUNDS; round++) {
    for (const w of ["default", "tuned"] as const) {
      for (const dir of ["down", "up"] as const) {
        const clients: Client[] = round % 2 ? ["curl", "ours", "fetch"] : ["ours", "curl", "fetch"];
        for (const who of clients) {
          // Round 0 is the warm-up: one short transfer each.
          const res = await transfer(who, dir, servers[w].origin, w === "tuned");
          const key = `${w} ${dir} ${who}`;
          if (round === 0) continue;
          samples.set(key, [...(samples.get(key) ?? []), res.mbs]);
          if (res.err) errors.push(`round ${round} ${key}: ${res.err}`);
          log(
            `round ${round} ${key}: ${res.mbs.toFixed(1)} MiB/s (${
              res.bytes / 1048576
            } MiB) ${res.err}`,
          );
        }
      }
    }
  }
  const f = (n: number) => Number.isFinite(n) ? n.toFixed(1) : "n/a";
  const rows = [
    "| windows | direction | ours MiB/s | curl MiB/s | Deno fetch MiB/s | ours / curl |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const w of ["default", "tuned"]) {
    for (const dir of ["down", "up"]) {
      const o = samples.get(`${w} ${dir} ours`) ?? [];
      const c = samples.get(`${w} ${dir} curl`) ?? [];
      const r = median(o.map((x, i) => x / c[i]));
      const label = w === "default" ? "default (65535)" : "tuned (1 MiB / 2 MiB)";
      rows.push(
        `| ${label} | ${dir === "down" ? "download" : "upload"} | ${f(median(o))} | ${
          f(median(c))
        } | ${f(median(samples.get(`${w} ${dir} fetch`) ?? []))}${
          dir === "up" ? ` (${FETCH_UP_MIB} MiB)` : ""
        } | ${Number.isFinite(r) ? r.toFixed(2) + "x" : "n/a"} |`,
      );
    }
  }
  const curlV = (await output(["curl", "--version"])).text.split("\n")[0];
  const text = [
    `HTTP/2 transfer, ${
      started.toISOString().slice(0, 16).replace("T", " ")
    } UTC, commit ${commit}`,
    "",
    ...rows,
    "",
    `${MIB} MiB per transfer (Deno fetch uploads ${FETCH_UP_MIB} MiB), median of ${ROUNDS} rounds after a warm-up round; ` +
    `server: our server on Deno over TLS (ALPN h2), one process per window setting; ` +
    (pin
      ? `server on CPU ${SERVER_CPU}, clients on CPU ${CLIENT_CPU} (taskset); `
      : "no pinning; ") +
    `${cores} cores; one client process per transfer, timed inside the process (start-up excluded) for our client and fetch, curl by its time_total. ${curlV}; Deno ${Deno.version.deno}.`,
    ...(errors.length ? ["", "errors:", ...errors.map((e) => `- ${e}`)] : []),
  ].join("\n") + "\n";
  console.log(text);
  await Deno.mkdir(`${ROOT}/bench/.results`, { recursive: true });
  const file = `${ROOT}/bench/.results/http2_transfer-${
    started.toISOString().replace(/[:.]/g, "-")
  }`;
  await Deno.writeTextFile(`${file}.md`, text);
  await Deno.writeTextFile(
    `${file}.json`,
    JSON.stringify({ samples: Object.fromEntries(samples), errors }, null, 2),
  );
} finally {
  for (const s of Object.values(servers)) {
    try {
      s.child.kill("SIGTERM");
    } catch { /* gone */ }
    await s.child.status;
  }
  await Deno.remove(UPLOAD);
}
