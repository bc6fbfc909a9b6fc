/** A headless Debian Chromium driven by playwright-core, for the browser interop tests. */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";

/** Debian's chromium; there is no browser download (playwright's CDN is not reachable). */
export const CHROMIUM = "/usr/bin/chromium";

const PLAYWRIGHT = "playwright-core";

/** Why the browser tests cannot run here, or `undefined` when they can. */
export function browserMissing(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is absent (apt-get install chromium)`;
  const isDeno = typeof (Deno as { version?: { deno?: string } }).version?.deno === "string";
  if (!isDeno) {
    const pkg = new URL("../../node_modules/playwright-core/package.json", import.meta.url);
    if (!existsSync(pkg)) return "node_modules/playwright-core is absent (npm ci)";
  }
  return undefined;
}

/** A running headless Chromium with one fresh profile; dispose to close it and remove the profile. */
export interface BrowserSession extends AsyncDisposable {
  context: BrowserContext;
}

/** Launches Debian's Chromium headless with a fresh user-data dir. */
export async function launchChromium(): Promise<BrowserSession> {
  // A specifier in a variable: the Node/Bun bundler leaves playwright-core (which does not
  // bundle) to the runtime's resolver; Deno resolves it through package.json.
  const specifier = PLAYWRIGHT;
  const { chromium } = await import(specifier) as typeof import("playwright-core");
  const profile = await mkdtemp(join(tmpdir(), "hyperwire-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
      ],
      timeout: 60_000,
    });
  } catch (e) {
    await rm(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    async [Symbol.asyncDispose]() {
      try {
        await context.close();
      } finally {
        await rm(profile, { recursive: true, force: true });
      }
    },
  };
}
