/**
 * The Redis backplane for the Edgewire reference server, on node-redis
 * (`npm:redis`): give the same Redis to several server processes and they
 * act as one (Emitter deliveries, presence and share groups, Spot routing,
 * rate limits). It is its own entry point so that `@edgewire/sdk/server`
 * never loads a Node module and runs on Workers.
 *
 * @example Several processes, one server
 * ```ts ignore
 * import { createServer } from "@edgewire/sdk/server";
 * import { RedisBackplane } from "@edgewire/sdk/server/redis";
 *
 * const backplane = await RedisBackplane.connect(Deno.env.get("EDGEWIRE_REDIS_URL"));
 * const server = createServer({ backplane });
 * Deno.serve({ port: 8080 }, server.fetch);
 * ```
 *
 * @module
 */

export { RedisBackplane, type RedisBackplaneOptions } from "./redis_backplane.ts";
export {
  type Backplane,
  BackplaneError,
  type BackplaneHandler,
  type BackplaneStatus,
  type BackplaneSubscription,
} from "../backplane.ts";
export { EdgewireError } from "../../core/errors.ts";
