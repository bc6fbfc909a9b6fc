/** Group 12, compression with different payloads: the default offer, five payload sources. */
import type { Case } from "./_case.ts";
import { compressedEcho, MESSAGE_SIZES } from "./_compressed_echo.ts";
import { type AcceptOffers, offer } from "./_handshake.ts";
import { testData } from "./_testdata.ts";

/** Autobahn's server accepts the first offer as it stands. */
export const acceptFirst: AcceptOffers = (offers) =>
  offers.length === 0
    ? null
    : { offer: offers[0], requestNoContextTakeover: false, requestMaxWindowBits: 0 };

/** The cases of group 12. */
export function group12(): Case[] {
  return testData().flatMap((data, j) =>
    MESSAGE_SIZES.map((size, i) =>
      compressedEcho(`12.${j + 1}.${i + 1}`, data, size, {
        offers: [offer()],
        accept: acceptFirst,
        ours: {},
      }, "default offer")
    )
  );
}
