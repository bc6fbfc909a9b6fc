/**
 * Interop with a real browser: Debian's Chromium (driven by playwright-core) loads a page from
 * our server and its `WebSocket` echoes a thousand messages of repetitive JSON through our
 * server, with permessage-deflate, and without it (fallback to plain frames).
 */
import { assert, assertEquals } from "@std/assert";
import { serve } from "../../server/mod.ts";
import { WebSockets } from "../../websockets/mod.ts";
import { browserMissing, launchChromium } from "./_browser.ts";

const MISSING = browserMissing();
if (MISSING !== undefined) console.warn(`ws_browser_test: ignored, ${MISSING}`);

const COUNT = 1000;
const PAGE = "<!doctype html><html><head><title>ws interop</title></head><body></body></html>";

/** What the page reports. */
interface Report {
  extensions: string;
  received: number;
  correct: number;
  firstBad?: string;
  error?: string;
}

/** Runs in the page: sends `count` JSON messages, checks every echo, reports. */
function echoInPage([url, count]: [string, number]): Promise<Report> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const sent: string[] = [];
    let received = 0;
    let correct = 0;
    let firstBad: string | undefined;
    const timer = setTimeout(() => {
      resolve({ extensions: ws.extensions, received, correct, firstBad, error: "timeout" });
    }, 60_000);
    ws.onerror = () => {
      clearTimeout(timer);
      resolve({ extensions: ws.extensions, received, correct, firstBad, error: "error event" });
    };
    ws.onopen = () => {
      for (let i = 0; i < count; i++) {
        const message = JSON.stringify({
          id: i,
          items: Array(50).fill({ name: "item", value: 42 }),
        });
        sent.push(message);
        ws.send(message);
      }
    };
    ws.onmessage = (event) => {
      if (event.data === sent[received]) correct++;
      else firstBad ??= `#${received}: ${String(event.data).slice(0, 80)}`;
      received++;
      if (received === count) {
        clearTimeout(timer);
        const extensions = ws.extensions;
        ws.onclose = () => resolve({ extensions, received, correct, firstBad });
        ws.close(1000, "done");
      }
    };
  });
}

for (const compress of [true, false]) {
  Deno.test({
    name: `chromium WebSocket, our server, ${
      compress ? "with permessage-deflate" : "uncompressed (fallback)"
    }`,
    ignore: MISSING !== undefined,
    async fn() {
      const serverExtensions: string[] = [];
      const server = await serve("127.0.0.1", 0, (request) => {
        if (new URL(request.url).pathname !== "/ws") {
          return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
        }
        return WebSockets.upgrade(request, async (ws) => {
          serverExtensions.push(ws.extensions);
          for await (const msg of ws) await ws.send(msg);
        }, { compress });
      });
      try {
        const origin = `http://${WebSockets.serverAddr(server)}`;
        await using browser = await launchChromium();
        const page = await browser.context.newPage();
        await page.goto(`${origin}/`);
        const report = await page.evaluate(echoInPage, [
          `ws://${WebSockets.serverAddr(server)}/ws`,
          COUNT,
        ] as [string, number]);
        assertEquals(report.error, undefined, JSON.stringify(report));
        assertEquals(report.received, COUNT, JSON.stringify(report));
        assertEquals(report.correct, COUNT, JSON.stringify(report));
        assertEquals(serverExtensions.length, 1);
        if (compress) {
          assert(report.extensions.includes("permessage-deflate"), report.extensions);
          assert(serverExtensions[0].startsWith("permessage-deflate"), serverExtensions[0]);
        } else {
          assertEquals(report.extensions, "");
          assertEquals(serverExtensions[0], "");
        }
      } finally {
        await WebSockets.forceClose(server);
      }
    },
  });
}
