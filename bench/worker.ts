// Bench Worker: each route runs `n` operations against one actor and answers when done; the
// Node side (bench/run.mjs) times the whole request, interleaving framework and baseline.
import { Hono } from "hono";
import { BenchNotes, PlainBenchNotes } from "./actors/notes";

export { BenchNotes, PlainBenchNotes };

type BenchEnv = {
  BENCH_NOTES: DurableObjectNamespace<BenchNotes>;
  PLAIN_BENCH_NOTES: DurableObjectNamespace<PlainBenchNotes>;
};

const count = (value: string | undefined) => Math.min(Math.max(Number(value) || 100, 1), 100_000);

export const app = new Hono<{ Bindings: BenchEnv }>();

app.get("/health", (c) => c.json({ ok: true }));

// Foundation: one-row insert per RPC call, `n` calls per request.
app.post("/bench/insert/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const name = c.req.param("name");
  const variant = c.req.param("variant");
  if (variant === "plain") {
    const stub = c.env.PLAIN_BENCH_NOTES.getByName(name);
    for (let i = 0; i < n; i++) await stub.insertRaw(`note ${i}`);
  } else {
    const stub = c.env.BENCH_NOTES.getByName(name);
    if (variant === "drizzle") for (let i = 0; i < n; i++) await stub.insertDrizzle(`note ${i}`);
    else for (let i = 0; i < n; i++) await stub.insertRaw(`note ${i}`);
  }
  return c.json({ n });
});

export default app;
