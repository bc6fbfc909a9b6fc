/** Autobahn's cases, played by a fuzzing server against our WebSockets.open echoing client with permessage-deflate. */
import { CONFIGS } from "./_configs.ts";
import { conformanceTests } from "./_conformance.ts";

conformanceTests(CONFIGS[3]);
