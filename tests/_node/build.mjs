// Bundles every `tests/**/*_test.ts` into `dist/tests/**/*_test.mjs` for Node and Bun.
//
//   node tests/_node/build.mjs [file-or-folder ...]   (default: tests/)
//
// - Bare specifiers (`@std/assert`, ...) resolve through deno.json's `imports`, whose `npm:`
//   targets are taken from node_modules (installed from package.json at the same versions).
// - `deno_shim.js` is injected into every bundle: it installs `Deno.test` (on `node:test`)
//   and `Deno.env`, but no Deno socket API, so the code under test uses node:net / node:tls.
// - `import.meta.url` (and `.filename`, `.dirname`) of each of our modules is replaced by the
//   URL of its source file, so `new URL("./fixtures/...", import.meta.url)` finds the same
//   file as under Deno, whatever the bundle's own place.
// - The output tree mirrors tests/ under dist/tests/ (`*_test.mjs`, with inline source maps).

import * as esbuild from "esbuild";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, extname, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const TESTS = join(ROOT, "tests");
const OUT = join(ROOT, "dist", "tests");
const SHIM = join(HERE, "deno_shim.js");

/** Test entry points: `*_test.{ts,tsx,mts,js,mjs}` under the given paths, tests/_node excluded. */
function findTests(paths) {
  const found = [];
  const isTest = (name) => /_test\.(ts|tsx|mts|js|mjs)$/.test(name);
  const walk = (path) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      if (path === HERE) return;
      for (const name of readdirSync(path).sort()) {
        if (name === "node_modules" || name.startsWith(".")) continue;
        walk(join(path, name));
      }
    } else if (isTest(path)) {
      found.push(path);
    }
  };
  for (const p of paths) {
    const abs = resolve(p);
    if (!existsSync(abs)) throw new Error(`no such file or folder: ${p}`);
    if (relative(TESTS, abs).startsWith("..")) throw new Error(`not under tests/: ${p}`);
    walk(abs);
  }
  return [...new Set(found)];
}

/** deno.json's import map, with each `npm:name@version/sub` target turned into `name/sub`. */
function importMap() {
  const config = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8"));
  const map = new Map();
  for (const [key, target] of Object.entries(config.imports ?? {})) {
    map.set(key, npmToNode(target, `deno.json imports["${key}"]`));
  }
  return map;
}

/** `npm:@scope/name@1.2.3/sub/path.js` -> `@scope/name/sub/path.js`, checking the version. */
function npmToNode(specifier, where) {
  if (!specifier.startsWith("npm:")) return specifier;
  const m = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)(?:@([^/]+))?(\/.*)?$/.exec(specifier);
  if (!m) throw new Error(`${where}: cannot read npm specifier ${specifier}`);
  const [, name, version, sub = ""] = m;
  const pkgJson = join(ROOT, "node_modules", name, "package.json");
  if (!existsSync(pkgJson)) {
    throw new Error(`${where}: ${name} is not installed (add it to package.json, npm ci)`);
  }
  const installed = JSON.parse(readFileSync(pkgJson, "utf8")).version;
  if (version && /^\d+\.\d+\.\d+/.test(version) && installed !== version) {
    throw new Error(`${where}: wants ${name}@${version}, node_modules has ${installed}`);
  }
  return name + sub;
}

/** Resolves bare specifiers as Deno would with deno.json's import map, and `npm:` ones. */
function denoImports() {
  const map = importMap();
  const prefixes = [...map.keys()].filter((k) => k.endsWith("/")).sort((a, b) =>
    b.length - a.length
  );
  return {
    name: "deno-imports",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData?.mapped) return undefined;
        let target;
        if (map.has(args.path)) {
          target = map.get(args.path);
        } else if (args.path.startsWith("npm:")) {
          target = npmToNode(args.path, args.importer);
        } else if (args.path.startsWith("jsr:")) {
          return { errors: [{ text: `jsr: is not reachable; map ${args.path} in deno.json` }] };
        } else {
          const prefix = prefixes.find((p) => args.path.startsWith(p));
          if (prefix === undefined) return undefined;
          target = map.get(prefix) + args.path.slice(prefix.length);
        }
        if (/^(\.|\/|file:)/.test(target)) {
          return {
            path: target.startsWith("file:") ? fileURLToPath(target) : resolve(ROOT, target),
          };
        }
        const result = await build.resolve(target, {
          kind: args.kind,
          resolveDir: ROOT,
          pluginData: { mapped: true },
        });
        if (result.errors.length > 0) return { errors: result.errors };
        return { path: result.path, external: result.external };
      });
    },
  };
}

/** Gives each of our own modules its source file's `import.meta.url`. */
function sourceImportMeta() {
  const loaders = { ".ts": "ts", ".mts": "ts", ".tsx": "tsx", ".js": "js", ".mjs": "js" };
  return {
    name: "source-import-meta",
    setup(build) {
      build.onLoad({ filter: /\.(ts|mts|tsx|js|mjs)$/ }, async (args) => {
        if (args.path.split(sep).includes("node_modules")) return undefined;
        if (relative(ROOT, args.path).startsWith("..")) return undefined;
        let contents = await readFile(args.path, "utf8");
        if (contents.includes("import.meta")) {
          contents = contents
            .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
            .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
            .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(args.path)));
        }
        return { contents, loader: loaders[extname(args.path)] };
      });
    },
  };
}

const args = process.argv.slice(2);
const entryPoints = findTests(args.length > 0 ? args : [TESTS]);
if (args.length === 0) rmSync(OUT, { recursive: true, force: true });
if (entryPoints.length === 0) {
  console.error("build.mjs: no *_test.ts files found");
  process.exit(1);
}

const started = performance.now();
await esbuild.build({
  entryPoints,
  outbase: TESTS,
  outdir: OUT,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  inject: [SHIM],
  external: ["node:*", "bun:*", "bun"],
  sourcemap: "inline",
  sourcesContent: false,
  plugins: [denoImports(), sourceImportMeta()],
  logLevel: "warning",
});
console.error(
  `build.mjs: bundled ${entryPoints.length} test files into ${relative(ROOT, OUT)}/ ` +
    `in ${Math.round(performance.now() - started)} ms`,
);
