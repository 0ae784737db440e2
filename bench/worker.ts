// Bench Worker: each route runs `n` operations against one actor and answers when done; the
// Node side (bench/run.mjs) times the whole request, interleaving framework and baseline.
import { Hono } from "hono";
import { HandReserve, HistoryReserve, PlainReserve } from "./actors/history";
import { BenchNotes, PlainBenchNotes } from "./actors/notes";
import { BenchSchedules, PlainBenchSchedules } from "./actors/schedules";

export {
  BenchNotes,
  BenchSchedules,
  HandReserve,
  HistoryReserve,
  PlainBenchNotes,
  PlainBenchSchedules,
  PlainReserve,
};

type BenchEnv = {
  BENCH_NOTES: DurableObjectNamespace<BenchNotes>;
  PLAIN_BENCH_NOTES: DurableObjectNamespace<PlainBenchNotes>;
  BENCH_SCHEDULES: DurableObjectNamespace<BenchSchedules>;
  PLAIN_BENCH_SCHEDULES: DurableObjectNamespace<PlainBenchSchedules>;
  HISTORY_RESERVE: DurableObjectNamespace<HistoryReserve>;
  PLAIN_RESERVE: DurableObjectNamespace<PlainReserve>;
  HAND_RESERVE: DurableObjectNamespace<HandReserve>;
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

// Schedules: `n` schedule-then-cancel pairs inside one actor call.
app.post("/bench/schedule/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const name = c.req.param("name");
  const done =
    c.req.param("variant") === "plain"
      ? await c.env.PLAIN_BENCH_SCHEDULES.getByName(name).scheduleAndCancel(n)
      : await c.env.BENCH_SCHEDULES.getByName(name).scheduleAndCancel(n);
  return c.json({ n, done });
});

// History: `n` reserve transactions inside one call, with history on, off, and hand-written.
app.post("/bench/history-write/:variant/:name", async (c) => {
  const n = count(c.req.query("n"));
  const name = c.req.param("name");
  const variant = c.req.param("variant");
  const ns =
    variant === "on" ? c.env.HISTORY_RESERVE : variant === "off" ? c.env.PLAIN_RESERVE : c.env.HAND_RESERVE;
  return c.json({ n: await ns.getByName(name).reserveMany(n) });
});

// History: read a 100,000-row table as of a time after which 10% of its rows changed, or as it is now.
app.post("/bench/history-asof/setup/:name", async (c) => {
  const at = await c.env.HISTORY_RESERVE.getByName(c.req.param("name")).seedItems(100_000, 10_000);
  return c.json({ at });
});
app.post("/bench/history-asof/:variant/:name", async (c) => {
  const stub = c.env.HISTORY_RESERVE.getByName(c.req.param("name"));
  const at = c.req.query("at");
  return c.json({ rows: await stub.scanItems(c.req.param("variant") === "asof" ? Number(at) : undefined) });
});

export default app;
