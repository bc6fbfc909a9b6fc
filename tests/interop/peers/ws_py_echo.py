"""Python websockets peer for the interop tests.

server <compress 0|1>: echo server on 127.0.0.1, prints its port, echoes every message.
client <url> <compress 0|1>: sends text and binary messages, checks the echoes, prints a JSON
report ({"ok", "extensions", "count"}) and exits 0 when every echo matched.
"""
import asyncio
import json
import sys

import websockets


async def echo(ws, *_):
    async for msg in ws:
        await ws.send(msg)


async def server(compress):
    kw = {} if compress else {"compression": None}
    async with websockets.serve(echo, "127.0.0.1", 0, **kw) as srv:
        port = srv.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.get_running_loop().create_future()


async def client(url, compress):
    kw = {} if compress else {"compression": None}
    async with websockets.connect(url, max_size=2**24, **kw) as ws:
        ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        ok = True
        count = 0
        for i in range(50):
            text = json.dumps({"i": i, "payload": "repetitive " * (i * 20)})
            await ws.send(text)
            ok = ok and (await ws.recv()) == text
            data = bytes([i % 256]) * (i * 100)
            await ws.send(data)
            ok = ok and (await ws.recv()) == data
            count += 2
        await ws.close()
        print(json.dumps({"ok": ok, "extensions": ext, "count": count}), flush=True)
        return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1] == "server":
        asyncio.run(server(sys.argv[2] == "1"))
    else:
        sys.exit(asyncio.run(client(sys.argv[2], sys.argv[3] == "1")))
