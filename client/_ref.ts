// Whether an idle connection or timer keeps the process alive. An idle keep-alive connection
// must not (a script that made one request exits at once, as with fetch); a busy one must.
import type { Conn } from "../conn/types.ts";

/** Refs or unrefs a connection, if its kind has a process-keeping resource at all. */
export function setRef(conn: Conn, ref: boolean): void {
  try {
    if (ref) conn.ref?.();
    else conn.unref?.();
  } catch {
    // closed already
  }
}

/** Lets a timer keep the process alive again after {@linkcode unrefTimer}. */
export function refTimer(id: ReturnType<typeof setTimeout>): void {
  const timer = id as unknown as { ref?: () => void };
  if (typeof timer.ref === "function") timer.ref();
  else if (typeof Deno !== "undefined" && typeof Deno.refTimer === "function") {
    Deno.refTimer(id as unknown as number);
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
