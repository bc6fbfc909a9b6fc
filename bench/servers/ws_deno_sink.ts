// A discarding WebSocket server for send throughput (Deno.serve + Deno.upgradeWebSocket):
// drops every message, answers the text "done" with "ok" (messages arrive in order, so all
// before it were received). `deno run -A bench/servers/ws_deno_sink.ts [port]`.
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.args[0] ?? 0),
  onListen: () => {},
}, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (e) => {
    if (e.data === "done") socket.send("ok");
  };
  return response;
});
console.log(`listening ${server.addr.port} Deno.upgradeWebSocket sink ${Deno.version.deno}`);
