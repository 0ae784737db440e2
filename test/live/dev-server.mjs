// Start and stop a real `wrangler dev` of the coordinator for the live scripts (fuzz, SIGKILL, lookups).
import { spawn } from "node:child_process";
import { SignJWT } from "jose";

export const PORT = Number(process.env.LIVE_PORT ?? 8712);
export const INSPECTOR_PORT = Number(process.env.LIVE_INSPECTOR_PORT ?? 9312);
export const BASE = `http://127.0.0.1:${PORT}`;
export const SECRET = "live-secret-0123456789abcdef0123456789";
export const ADMIN_TOKEN = "live-admin-0123456789abcdef";

/** Start wrangler dev with auth on; resolves once /health answers. Returns { stop(signal) }. */
export async function startServer(persistTo, { vars = {} } = {}) {
  const args = [
    "wrangler",
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(PORT),
    "--inspector-port",
    String(INSPECTOR_PORT),
    "--persist-to",
    persistTo,
    "--var",
    `AUTH_JWT_SECRET:${SECRET}`,
    "--var",
    `ADMIN_TOKEN:${ADMIN_TOKEN}`,
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  // Its own process group, so SIGKILL reaches workerd too (a real crash of the runtime).
  const child = spawn("npx", args, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, X_LOCAL_OBSERVABILITY: "false" },
  });
  let log = "";
  child.stdout.on("data", (d) => {
    log += d;
  });
  child.stderr.on("data", (d) => {
    log += d;
  });
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      const res = await fetch(`${BASE}/health`);
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline || child.exitCode !== null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
      throw new Error(`wrangler dev did not start:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    log: () => log,
    async stop(signal = "SIGTERM") {
      try {
        process.kill(-child.pid, signal);
      } catch {}
      await new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", resolve);
        setTimeout(resolve, 10_000);
      });
      // Wait until the port is free again.
      for (let i = 0; i < 50; i++) {
        try {
          await fetch(`${BASE}/health`);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

export function userToken(sub, { secret = SECRET, exp } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime(exp ?? now + 3600)
    .sign(new TextEncoder().encode(secret));
}

/** fetch against the server with a bearer token and a JSON body. */
export async function api(method, path, { token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    h["content-type"] ??= "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  const res = await fetch(`${BASE}${path}`, { method, headers: h, body: payload });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text, headers: res.headers };
}
