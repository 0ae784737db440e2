// The coordinator's HTTP routes as the pages call them: JSON in, JSON out, typed errors.

/** An error answered by the coordinator (`{ error: { code, message, details? } }`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

/** GET `path`, or POST (or `method`) `body` as JSON; the answer's JSON, or an ApiError. */
export async function api<T>(path: string, body?: unknown, method = "POST"): Promise<T> {
  const init: RequestInit =
    body === undefined
      ? {}
      : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(path, init);
  const json = (await res.json()) as T & { error?: { code: string; message: string; details?: {} } };
  if (!res.ok) {
    const e = json.error ?? { code: "HTTP", message: res.statusText };
    throw new ApiError(res.status, e.code, e.message, e.details);
  }
  return json;
}
