/** Autobahn's cases, played by a fuzzing client against our WebSockets.listen echo server, without compression. */
import { CONFIGS } from "./_configs.ts";
import { conformanceTests } from "./_conformance.ts";

conformanceTests(CONFIGS[0]);
