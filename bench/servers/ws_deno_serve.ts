// Deno.serve + Deno.upgradeWebSocket echo (no compression): `deno run -A bench/servers/ws_deno_serve.ts [port]`.
const server = Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.args[0] ?? 0),
  onListen: () => {},
}, (request) => {
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (e) => socket.send(e.data);
  return response;
});
console.log(`listening ${server.addr.port} Deno.upgradeWebSocket ${Deno.version.deno}`);
