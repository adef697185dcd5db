/**
 * Every module whose error classes the error-name test checks, by entry
 * point: shared by the test, which checks them from source, and the entry
 * it bundles with minification.
 *
 * @module
 */

import * as root from "../../mod.ts";
import * as pow from "../../src/pow/mod.ts";
import * as mkstats from "../../src/mkstats/mod.ts";
import * as honch from "../../src/honch/mod.ts";
import * as migas from "../../src/migas/mod.ts";
import * as server from "../../src/server/mod.ts";
import * as validate from "../../src/server/_validate.ts";
import * as emitter from "../../src/emitter/mod.ts";
import * as spot from "../../src/spot/mod.ts";
// The Emitter codec and security modules are internal; their errors are checked all the same
import * as emitterMqtt from "../../src/emitter/mqtt/mod.ts";
import * as emitterSecurity from "../../src/emitter/security/mod.ts";
// The Spot crypto layer is internal until the Spot entry point exists
import * as spotCrypto from "../../src/spot/crypto/mod.ts";
// The Spot packet codec is internal until the spot entry point exists
import * as spotProto from "../../src/spot/proto/mod.ts";
// Bottles and IDCards are internal until the spot entry point exists
import * as spotBottle from "../../src/spot/bottle/mod.ts";
// The Spot client's errors, until the spot entry point re-exports them
import * as spotClient from "../../src/spot/errors.ts";
// The Postgres and D1 entries' error modules alone: their entries load npm clients and node:net
import * as postgresErrors from "../../src/server/postgres/schema_version_error.ts";
import * as d1Errors from "../../src/server/d1/d1_store_error.ts";

/** Each package entry point's exports by its name, and the server's private validation module. */
export const ERROR_MODULES = {
  "@edgewire/sdk": root,
  "@edgewire/sdk/pow": pow,
  "@edgewire/sdk/mkstats": mkstats,
  "@edgewire/sdk/honch": honch,
  "@edgewire/sdk/migas": migas,
  "@edgewire/sdk/emitter": emitter,
  "@edgewire/sdk/spot": spot,
  "@edgewire/sdk/server": server,
  "server/_validate.ts": validate,
  "emitter/mqtt (internal)": emitterMqtt,
  "emitter/security (internal)": emitterSecurity,
  "spot/crypto (internal)": spotCrypto,
  "spot/proto (internal)": spotProto,
  "spot/bottle (internal)": spotBottle,
  "spot/client (internal)": spotClient,
  "@edgewire/sdk/server/postgres (errors)": postgresErrors,
  "@edgewire/sdk/server/d1 (errors)": d1Errors,
} as Record<string, Record<string, unknown>>;
