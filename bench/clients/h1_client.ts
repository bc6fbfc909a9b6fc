/**
 * One HTTP/1.1 client under test, driven by `bench/http1_client.ts` over stdin and stdout.
 *
 * `deno run -A bench/clients/h1_client.ts <kind>` on Deno (kinds `ours`, `fetch`), or
 * `node bench/.deps/node_modules/.bench/h1_client.mjs <kind>` on Node (the esbuild bundle of
 * this file made by bench/setup.sh; kinds `ours`, `undici_request`, `undici_fetch`, with
 * undici from bench/.deps/node_modules). It prints `ready <runtime> <version>`, then answers
 * each command line `run <url> <concurrency> <seconds>` with one JSON line
 * `{"requests":n,"seconds":s,"errors":n,"error":"..."}`: `concurrency` loops, each sending
 * GET requests one after another and reading every body to its end, for `seconds`.
 *
 * @module
 */
import process from "node:process";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { Client, ProxyConfig } from "../../client/mod.ts";

type Get = (url: string) => Promise<number>;

const kind = process.argv.at(-1) ?? "";
const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
const runtime = deno ? `deno ${deno.version.deno}` : `node ${process.version}`;

/** Makes the GET function of a client kind; it resolves to the body's length. */
function makeGet(): { get: Get; version: string } {
  if (kind === "ours") {
    const client = new Client({ proxy: new ProxyConfig() });
    return {
      get: async (url) => (await (await client.request("GET", url)).arrayBuffer()).byteLength,
      version: "ours",
    };
  }
  if (kind === "fetch") {
    return {
      get: async (url) => (await (await fetch(url)).arrayBuffer()).byteLength,
      version: "fetch",
    };
  }
  // Loaded at run time (not bundled), from bench/.deps/node_modules next to the bundle.
  const require = createRequire(import.meta.url);
  const undici = require("undici");
  const { version } = require("undici/package.json");
  if (kind === "undici_request") {
    return {
      get: async (url) => {
        const { body } = await undici.request(url);
        return (await body.arrayBuffer()).byteLength;
      },
      version: `undici ${version}`,
    };
  }
  if (kind === "undici_fetch") {
    return {
      get: async (url) => (await (await undici.fetch(url)).arrayBuffer()).byteLength,
      version: `undici ${version}`,
    };
  }
  throw new Error(`unknown client kind ${kind}`);
}

const { get, version } = makeGet();

async function run(url: string, concurrency: number, seconds: number) {
  let requests = 0;
  let errors = 0;
  let error = "";
  const start = performance.now();
  const end = start + seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      try {
        await get(url);
        requests++;
      } catch (e) {
        errors++;
        error ||= String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { requests, seconds: (performance.now() - start) / 1000, errors, error };
}

const lines = createInterface({ input: process.stdin });
console.log(`ready ${runtime} ${version}`);
for await (const line of lines) {
  const [cmd, url, concurrency, seconds] = line.trim().split(" ");
  if (cmd !== "run") break;
  console.log(JSON.stringify(await run(url, Number(concurrency), Number(seconds))));
}
process.exit(0);
