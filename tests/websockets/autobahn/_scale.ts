/**
 * How far the suite scales Autobahn down so that CI stays fast. Every case is kept; what
 * shrinks is time and volume:
 * - one Autobahn second (its waits and deadlines) lasts `second` ms;
 * - group 9's message and fragment sizes are divided by `bytes` (9.5 / 9.6 keep their chop
 *   sizes, only the message shrinks), and 9.7 / 9.8 send `roundTrips` messages, not 1000;
 * - groups 12 and 13 send `compressedMessages` messages per case, not 1000.
 * `AUTOBAHN_FULL=1` in the environment runs Autobahn's own numbers (minutes, not seconds).
 */

function fullRun(): boolean {
  try {
    return Deno.env.get("AUTOBAHN_FULL") === "1";
  } catch {
    return false; // no permission to read the environment
  }
}

/** The scale of this run. */
export interface Scale {
  second: number;
  bytes: number;
  roundTrips: number;
  compressedMessages: number;
}

const FULL = fullRun();

/** The scale in force. */
export const SCALE: Scale = FULL
  ? { second: 1000, bytes: 1, roundTrips: 1000, compressedMessages: 1000 }
  : { second: 500, bytes: 16, roundTrips: 100, compressedMessages: 8 };
