/**
 * Group 13, compression with different parameters: seven pairs of a client's offers and a
 * server's way of accepting them (context takeover, 9- and 15-bit windows), on the JSON
 * payload. When our client is under test it offers the first offer's server parameters.
 */
import type { Case } from "./_case.ts";
import { compressedEcho, MESSAGE_SIZES } from "./_compressed_echo.ts";
import { type Acceptance, type AcceptOffers, type Offer, offer } from "./_handshake.ts";
import { testData } from "./_testdata.ts";

/** Accepts the first offer that allows what this server asks of the client. */
function accepting(
  noContextTakeover: boolean,
  maxWindowBits: number,
): (offers: Offer[]) => Acceptance | null {
  return (offers) => {
    for (const o of offers) {
      if (noContextTakeover && !o.acceptNoContextTakeover) continue;
      if (maxWindowBits !== 0 && !o.acceptMaxWindowBits) continue;
      return {
        offer: o,
        requestNoContextTakeover: noContextTakeover,
        requestMaxWindowBits: maxWindowBits,
      };
    }
    return null;
  };
}

const firstOf = (...ways: AcceptOffers[]): AcceptOffers => (offers) => {
  for (const way of ways) {
    const a = way(offers);
    if (a !== null) return a;
  }
  return null;
};

/** The seven parameter sets: the client's offers and the server's acceptance. */
const PARAMETERS: [offers: Offer[], accept: AcceptOffers, what: string][] = [
  [[offer()], accepting(false, 0), "offer (false, 0) / accept (false, 0)"],
  [
    [offer({ requestNoContextTakeover: true })],
    accepting(true, 0),
    "offer (true, 0) / accept (true, 0)",
  ],
  [
    [offer({ requestMaxWindowBits: 9 })],
    accepting(false, 9),
    "offer (false, 9) / accept (false, 9)",
  ],
  [
    [offer({ requestMaxWindowBits: 15 })],
    accepting(false, 15),
    "offer (false, 15) / accept (false, 15)",
  ],
  [
    [offer({ requestNoContextTakeover: true, requestMaxWindowBits: 9 })],
    accepting(true, 9),
    "offer (true, 9) / accept (true, 9)",
  ],
  [
    [offer({ requestNoContextTakeover: true, requestMaxWindowBits: 15 })],
    accepting(true, 15),
    "offer (true, 15) / accept (true, 15)",
  ],
  [
    [
      offer({ requestNoContextTakeover: true, requestMaxWindowBits: 9 }),
      offer({ requestNoContextTakeover: true }),
      offer(),
    ],
    firstOf(accepting(true, 9), accepting(true, 0), accepting(false, 0)),
    "offers (true, 9), (true, 0), (false, 0) / accept (true, 9), (true, 0), (false, 0)",
  ],
];

/** The cases of group 13. */
export function group13(): Case[] {
  const json = testData()[0];
  return PARAMETERS.flatMap(([offers, accept, what], j) =>
    MESSAGE_SIZES.map((size, i) =>
      compressedEcho(`13.${j + 1}.${i + 1}`, json, size, {
        offers,
        accept,
        ours: {
          serverNoContextTakeover: offers[0].requestNoContextTakeover,
          serverMaxWindowBits: offers[0].requestMaxWindowBits || undefined,
        },
      }, what)
    )
  );
}

/**
 * Where RFC 7692 lets an end decline: an offer of a 9-bit server window (13.3, 13.5) may
 * be refused; a case there may be UNIMPLEMENTED, nowhere else.
 */
export function mayDecline(id: string): boolean {
  return /^13\.[35]\./.test(id);
}
