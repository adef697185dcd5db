/**
 * Bundled with `deno bundle --minify` by the error-name test: prints, as one
 * JSON line, every exported error class of every entry point with the name
 * its instances carry once the classes are renamed.
 *
 * @module
 */

import { findErrors } from "./_error_classes.ts";
import { ERROR_MODULES } from "./_error_modules.ts";

console.log(JSON.stringify(findErrors(ERROR_MODULES)));
