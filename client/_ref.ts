// Whether an idle connection or timer keeps the process alive. An idle keep-alive connection
// must not (a script that made one request exits at once, as with fetch); a busy one must.
import type { Conn } from "../conn/types.ts";

interface Refable {
  ref?: () => void;
  unref?: () => void;
}

/**
 * Refs or unrefs the socket under a connection made by `conn/`: its own `ref`/`unref` if the
 * `Conn` has them, else the Deno connection (`raw`) or the Node socket (`socket`) it wraps.
 * Connections of other kinds are left alone.
 */
export function setRef(conn: Conn, ref: boolean): void {
  const c = conn as unknown as Refable & { raw?: Refable; socket?: Refable };
  const target: Refable | undefined = typeof c.unref === "function" ? c : c.raw ?? c.socket;
  try {
    if (ref) target?.ref?.();
    else target?.unref?.();
  } catch {
    // closed already
  }
}

/** Lets a timer not keep the process alive (Deno, Node and Bun). */
export function unrefTimer(id: ReturnType<typeof setTimeout>): void {
  const timer = id as unknown as { unref?: () => void };
  if (typeof timer.unref === "function") timer.unref();
  else if (typeof Deno !== "undefined" && typeof Deno.unrefTimer === "function") {
    Deno.unrefTimer(id as unknown as number);
  }
}
