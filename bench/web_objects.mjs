// What the Web objects of a `Request => Response` handler cost on their own, per runtime:
// `node bench/web_objects.mjs`, `deno run bench/web_objects.mjs`, `bun bench/web_objects.mjs`.
// Prints the wall-clock microseconds per operation (loops of 200,000 after a warm-up), the
// floor under any server built on `Request` / `Response` (see bench/RESULTS.md, HTTP/1.1 server).
const N = 200_000;
const HEADERS = [["host", "127.0.0.1:8080"], ["user-agent", "wrk"], ["accept", "*/*"]];

async function bench(name, op) {
  for (let i = 0; i < N / 10; i++) await op();
  const start = performance.now();
  for (let i = 0; i < N; i++) await op();
  const us = ((performance.now() - start) * 1000) / N;
  console.log(`${name.padEnd(44)} ${us.toFixed(2)} µs`);
}

await bench(
  "new Request(url, { method, headers })",
  () => new Request("http://127.0.0.1:8080/", { method: "GET", headers: HEADERS }),
);
await bench(
  "new Response(string, { headers })",
  () => new Response("Hello World!", { headers: { "content-type": "text/plain" } }),
);
await bench("... and read its body stream to the end", async () => {
  const reader = new Response("Hello World!").body.getReader();
  while (!(await reader.read()).done);
});
await bench("... its body stream made, not read", () => new Response("Hello World!").body);
await bench("... its body taken with bytes() instead", () => new Response("Hello World!").bytes());
await bench("new Uint8Array(112)", () => new Uint8Array(112));
