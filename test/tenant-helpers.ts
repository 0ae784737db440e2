// Calls to the tenant routes: development mode (the test Worker as is) or secured (auth variables set).
import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import coordinator from "./worker";

let seq = 0;
export const freshTenant = (prefix = "t") => `${prefix}-${Date.now()}-${seq++}`;

type Fetcher = { fetch(request: Request): Promise<Response> };
const devWorker = (exports as unknown as { default: Fetcher }).default;

export type Call = (
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<Response>;

/** A call to the coordinator: in development mode, or with these auth variables and this token. */
export function caller(options: { vars?: Record<string, string>; token?: string } = {}): Call {
  return (method, path, body, extra = {}) => {
    const headers: Record<string, string> = { ...extra };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (body !== undefined) headers["content-type"] ??= "application/json";
    const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
    const request = new Request(`http://coordinator${path}`, init);
    return fetchWith(request, options.vars);
  };
}

/** The coordinator called in-process with the test Worker's bindings plus `vars`. */
export async function fetchWith(request: Request, vars?: Record<string, string>): Promise<Response> {
  if (!vars) return devWorker.fetch(request);
  return coordinator.fetch(
    request,
    { ...env, ...vars } as Env,
    {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext,
  );
}

export async function json<T = any>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

export async function codeOf(res: Response | Promise<Response>): Promise<string | undefined> {
  return ((await (await res).json()) as { error?: { code?: string } }).error?.code;
}
