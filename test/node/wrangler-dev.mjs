// Node-only helpers of the client test (plain JS: the project's types are the Workers' ones).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const gzipSize = (bytes) => gzipSync(bytes, { level: 9 }).length;
export const tempDir = () => mkdtempSync(join(tmpdir(), "dosql-client-"));
export const removeDir = (dir) => rmSync(dir, { recursive: true, force: true });
/** `<prefix>_PORT` plus `offset` from the environment (test files run in parallel), else a free port. */
const portFrom = (name, offset) =>
  freePort(process.env[name] ? String(Number(process.env[name]) + offset) : undefined);

/**
 * A fresh `wrangler dev` of the coordinator (its own state folder) for one test file: ports from
 * `<prefix>_PORT` / `<prefix>_INSPECTOR_PORT` plus `offset` (DOSQL_NODE_TEST, DOSQL_BROWSER_TEST),
 * else free ones. `stop()` ends it and removes its state.
 */
export async function startDev(prefix, offset = 0) {
  const state = tempDir();
  const port = await portFrom(`${prefix}_PORT`, offset);
  const server = new WranglerDev(port, await portFrom(`${prefix}_INSPECTOR_PORT`, offset), state);
  await server.start();
  return {
    server,
    async stop() {
      await server.stop();
      removeDir(state);
    },
  };
}

/** A free loopback port (or the one given in the environment, for runs on a shared machine). */
export async function freePort(fromEnv) {
  if (fromEnv) return Number(fromEnv);
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** `wrangler dev` of the coordinator on 127.0.0.1, with its state in `persistTo` (kept across restarts). */
export class WranglerDev {
  #child;
  output = "";

  constructor(port, inspectorPort, persistTo) {
    this.port = port;
    this.inspectorPort = inspectorPort;
    this.persistTo = persistTo;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    const args = ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(this.port)];
    args.push("--inspector-port", String(this.inspectorPort), "--persist-to", this.persistTo);
    args.push("--show-interactive-dev-session=false");
    this.#child = spawn("npx", args, {
      detached: true, // its own process group, so stop() ends wrangler and workerd together
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, X_LOCAL_OBSERVABILITY: "false", WRANGLER_SEND_METRICS: "false", CI: "1" },
    });
    this.#child.stdout.on("data", (d) => {
      this.output += d;
    });
    this.#child.stderr.on("data", (d) => {
      this.output += d;
    });
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (this.#child.exitCode !== null) throw new Error(`wrangler dev exited:\n${this.output}`);
      try {
        const res = await fetch(`${this.url}/health`);
        if (res.ok) return;
      } catch {}
      if (Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop() {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid, "SIGTERM");
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, 5000);
    await exited;
    clearTimeout(timer);
    try {
      process.kill(-child.pid, "SIGKILL"); // anything of the group still running
    } catch {}
    // workerd may outlive the npx wrapper for a moment: wait until the port is free.
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(`${this.url}/health`);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        return;
      }
    }
  }
}
