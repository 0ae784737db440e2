// The bench cases' one HTTP helper: POST to the bench Worker, fail loudly on an error answer.

/** POST `body` (JSON, if any) to `base + path`; the answer's text, or an Error naming the path. */
export async function post(base, path, body) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: body === undefined ? undefined : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text.slice(0, 300)}`);
  return text;
}

/** `post`, the answer parsed as JSON. */
export const postJson = async (base, path, body) => JSON.parse(await post(base, path, body));
