// A minimal `Deno` global for running the Deno test files on Node and Bun.
//
// It gives only what the test files and `@std/assert` need from the test harness:
// - `Deno.test` in all its call forms, on top of `node:test` (Bun's `bun test` runs
//   `node:test` files too); `ignore` becomes a skipped test, `t.step` a subtest;
// - `Deno.env`, backed by `process.env`;
// - `Deno.permissions.query[Sync]`, always "granted": `@std/assert` asks it before it reads
//   DIFF_CONTEXT_LENGTH when it formats a failed assertion's diff.
// Nothing else on purpose: without `Deno.connect` and friends, the code under test takes its
// node:net / node:tls path, which is what these runs are for.
//
// esbuild injects this file into every test bundle (see build.mjs).

import { test as nodeTest } from "node:test";
import process from "node:process";

/**
 * Normalizes the call forms of `Deno.test` and `t.step` into one definition.
 * @param {unknown[]} args
 * @returns {{ name: string, fn: Function, ignore?: boolean, only?: boolean }}
 */
function definition(args) {
  const [a, b, c] = args;
  /** @type {Record<string, unknown>} */
  let def;
  if (typeof a === "string") {
    // (name, fn) or (name, options, fn)
    def = typeof b === "function" ? { name: a, fn: b } : { ...b, name: a, fn: c };
  } else if (typeof a === "function") {
    // (fn) or (fn, options)? Deno has (fn) only; take a name from the function.
    def = { ...(typeof b === "object" ? b : {}), name: a.name, fn: a };
  } else if (a && typeof a === "object") {
    // (options) with fn inside, or (options, fn)
    def = typeof b === "function" ? { ...a, fn: b, name: a.name ?? b.name } : { ...a };
  } else {
    throw new TypeError("Deno.test: expected a name, a function or a definition object");
  }
  if (typeof def.fn !== "function") throw new TypeError("Deno.test: missing test function");
  if (typeof def.name !== "string" || def.name === "") {
    throw new TypeError("Deno.test: the test needs a name");
  }
  return /** @type {any} */ (def);
}

/**
 * Runs a Deno test or step function with a Deno-like context made from a node:test one.
 * @param {Function} fn
 * @param {string} name
 * @param {any} nodeContext
 * @param {any} parent
 */
function run(fn, name, nodeContext, parent) {
  const context = {
    name,
    origin: "",
    parent,
    /** @param {unknown[]} args */
    step(...args) {
      const def = definition(args);
      let passed = false;
      return Promise.resolve(
        nodeContext.test(
          def.name,
          { skip: def.ignore === true },
          async (/** @type {any} */ sub) => {
            await run(def.fn, def.name, sub, context);
            passed = true;
          },
        ),
      ).then(() => passed);
    },
  };
  return fn(context);
}

/** @param {unknown[]} args */
function test(...args) {
  const def = definition(args);
  /** @type {Record<string, unknown>} */
  const options = { skip: def.ignore === true };
  if (def.only === true) options.only = true;
  nodeTest(def.name, options, (/** @type {any} */ t) => run(def.fn, def.name, t, undefined));
}
/** @param {unknown[]} args */
test.ignore = (...args) => test({ ...definition(args), ignore: true });
/** @param {unknown[]} args */
test.only = (...args) => test({ ...definition(args), only: true });

const env = {
  /** @param {string} key */
  get: (key) => process.env[key],
  /** @param {string} key @param {string} value */
  set: (key, value) => {
    process.env[key] = value;
  },
  /** @param {string} key */
  has: (key) => key in process.env,
  /** @param {string} key */
  delete: (key) => {
    delete process.env[key];
  },
  toObject: () => ({ ...process.env }),
};

const granted = () => ({ state: "granted", partial: false, onchange: null });
const permissions = {
  querySync: granted,
  query: () => Promise.resolve(granted()),
};

const g = /** @type {any} */ (globalThis);
if (g.Deno === undefined) {
  g.Deno = { test, env, permissions };
}
