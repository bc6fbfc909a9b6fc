/** Whether Deno's own socket APIs are here (Deno itself, not a shim on Node or Bun). */
export const HAS_DENO_SOCKETS: boolean = typeof (globalThis as { Deno?: { connect?: unknown } })
  .Deno?.connect === "function";
