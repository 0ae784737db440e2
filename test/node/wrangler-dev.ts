import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

/** A free loopback port (or the one given in the environment, for runs on a shared machine). */
export async function freePort(fromEnv?: string): Promise<number> {
  if (fromEnv) return Number(fromEnv);
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `wrangler dev` of the coordinator on 127.0.0.1, with its state in `persistTo` (kept across restarts). */
export class WranglerDev {
  #child: ChildProcess | undefined;
  output = "";

  constructor(
    readonly port: number,
    readonly inspectorPort: number,
    readonly persistTo: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ["wrangler", "dev", "--ip", "127.0.0.1", "--port", String(this.port)];
    args.push("--inspector-port", String(this.inspectorPort), "--persist-to", this.persistTo);
    args.push("--show-interactive-dev-session=false");
    this.#child = spawn("npx", args, {
      detached: true, // its own process group, so stop() ends wrangler and workerd together
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, X_LOCAL_OBSERVABILITY: "false", WRANGLER_SEND_METRICS: "false", CI: "1" },
    });
    this.#child.stdout!.on("data", (d) => {
      this.output += d;
    });
    this.#child.stderr!.on("data", (d) => {
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

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid!, "SIGTERM");
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {}
    }, 5000);
    await exited;
    clearTimeout(timer);
    try {
      process.kill(-child.pid!, "SIGKILL"); // anything of the group still running
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
