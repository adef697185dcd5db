/**
 * Bundled with `deno bundle --minify` by the error-name test: prints, as one
 * JSON line, every exported error class of every entry point with the name
 * its instances carry once the classes are renamed.
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
import { findErrors } from "./_error_classes.ts";

console.log(JSON.stringify(findErrors({
  "@edgewire/sdk": root,
  "@edgewire/sdk/pow": pow,
  "@edgewire/sdk/mkstats": mkstats,
  "@edgewire/sdk/honch": honch,
  "@edgewire/sdk/migas": migas,
  "@edgewire/sdk/server": server,
  "server/_validate.ts": validate,
})));
