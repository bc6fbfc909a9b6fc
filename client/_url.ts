// Host and port of a URL as a socket wants them.

/** A URL's host name without IPv6 brackets, lowercase. */
export function bareHostname(url: URL): string {
  const h = url.hostname.toLowerCase();
  return h.startsWith("[") ? h.slice(1, -1) : h;
}

/** A URL's port, or its scheme's default. */
export function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === "https:" || url.protocol === "wss:" ? 443 : 80;
}
