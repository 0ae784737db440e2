import { type RpcConfig, readRpcConfig } from "./config";
import { type RpcHost, RpcServer } from "./server";

export {
  CALLER_HEADER,
  type Caller,
  caller,
  type VouchedCaller,
  vouchedCaller,
  withCaller,
} from "./caller";
export { defaultAuthorize, type Role, type RpcConfig } from "./config";
export type { LiveSnapshot } from "./live";
export type { CallId } from "./protocol";
export type { RpcHost, RpcServer } from "./server";

/** The rpc part as `defineActor({ rpc })` holds it; `M` names the offered methods (the client's types read it). */
export interface RpcPart<M extends string = string> {
  readonly kind: "rpc";
  readonly methods: { readonly [K in M]: string };
  create(host: RpcHost): RpcServer;
}

/**
 * Offer methods (and live queries) to sockets, each with the role it needs:
 *
 *   static config = defineActor({ schema, history, rpc: rpc({ methods: { status: "public", reserve: "admin" } }) });
 *
 * Checked when the class is defined (INVALID_CONFIG). An actor without `rpc` answers no RPC frame
 * and bundles none of this code.
 */
export function rpc<const M extends string>(config: RpcConfig<M>): RpcPart<M> {
  const settings = readRpcConfig(config);
  return Object.freeze({
    kind: "rpc" as const,
    methods: config.methods,
    create: (host: RpcHost) => new RpcServer(settings, host),
  });
}
