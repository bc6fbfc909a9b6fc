/** The connection adapters under test on this runtime: node:net everywhere, Deno's where it runs. */
import type { Conn, ConnectOptions, Listener, ListenOptions } from "../../conn/types.ts";
import { nodeConnect, nodeListen } from "../../conn/_node.ts";
import { denoConnect, denoListen } from "../../conn/_deno.ts";
import { HAS_DENO_SOCKETS } from "../../conn/_runtime.ts";

/** One adapter's connect and listen. */
export interface Adapter {
  name: string;
  connect(o: ConnectOptions): Promise<Conn>;
  listen(o: ListenOptions): Promise<Listener>;
}

/** The adapters to run each test against. */
export const adapters: Adapter[] = [{ name: "node:net", connect: nodeConnect, listen: nodeListen }];
if (HAS_DENO_SOCKETS) {
  adapters.push({
    name: "Deno",
    connect: denoConnect,
    listen: (o) => Promise.resolve(denoListen(o)),
  });
}
