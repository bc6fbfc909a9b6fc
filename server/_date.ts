let cachedSecond = -1;
let cached = "";

/** The current time as an HTTP date (RFC 9110 section 5.6.7), recomputed once a second. */
export function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cached = new Date(second * 1000).toUTCString();
  }
  return cached;
}
