// The tenants page's calls: the coordinator's JSON routes with the bearer token typed into the
// page, if any (none in development mode, where the server is open).
import { ApiError } from "./api";
import { byId } from "./dom";

/** The token of a tenant ("a", "b") or of the admin, as pasted into the page. */
const token = (who: string) => byId<HTMLInputElement>(`token-${who}`).value.trim();

/** `method path` as `who`, with an optional JSON body; the answer's JSON, or an ApiError. */
export async function call<T>(who: string, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  const t = token(who);
  if (t) headers.authorization = `Bearer ${t}`;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as T & { error?: { code: string; message: string } };
  if (!res.ok) {
    const e = json.error ?? { code: "HTTP", message: res.statusText };
    throw new ApiError(res.status, e.code, e.message);
  }
  return json;
}
