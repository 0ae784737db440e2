import { DurableObject } from "cloudflare:workers";
import { applyOnce, type ForwardBatch, forward } from "../../src/forward/index";
import { history } from "../../src/history/index";
import { defineActor, type MigrationBundle, SqlActor } from "../../src/index";

// Forward (issue 14): an actor writing one event per transaction, its forward delivering them to
// another actor (RPC) or to a queue, against a hand-written outbox doing the same: its own outbox
// table written in each transaction, then batches of 100 sent and deleted once accepted.

const bundle = (tag: string, sql: string[]): MigrationBundle => ({
  journal: { entries: [{ idx: 0, tag, when: 0 }] },
  migrations: { m0000: sql.join("\n--> statement-breakpoint\n") },
});
const EVENTS = [
  "CREATE TABLE events (id INTEGER PRIMARY KEY NOT NULL, kind TEXT NOT NULL, value REAL NOT NULL, secret TEXT)",
];
const sourceMigrations = bundle("0000_events", EVENTS);
const columns = { events: ["id", "kind", "value"] };
const batch = { size: 100, maxWaitMs: 5 };

abstract class BenchSource extends SqlActor<Env> {
  /** `n` events, one transaction each; answers the newest LSN (the sink waits for it). */
  writeMany(n: number): number {
    const start = Number(this.query<{ m: number }>("SELECT coalesce(max(id), 0) AS m FROM events")[0].m);
    for (let i = 1; i <= n; i++)
      this.transaction(() => {
        this.run("INSERT INTO events (id, kind, value, secret) VALUES (?, ?, ?, ?)", [
          start + i,
          i % 2 ? "view" : "click",
          i,
          "s",
        ]);
      });
    return this.history.status().lastLsn;
  }
}

export class BenchForwardToActor extends BenchSource {
  static override config = defineActor({
    schema: {},
    migrations: sourceMigrations,
    history: history({ tables: ["events"] }),
    forward: forward([
      {
        name: "actor",
        tables: ["events"],
        columns,
        to: { actor: "BENCH_FORWARD_SINK", name: (_c, source) => `${source}-sink`, method: "receive" },
        batch,
      },
    ]),
  });
}

export class BenchForwardToQueue extends BenchSource {
  static override config = defineActor({
    schema: {},
    migrations: sourceMigrations,
    history: history({ tables: ["events"] }),
    forward: forward([
      { name: "queue", tables: ["events"], columns, to: { queue: "BENCH_FORWARD_QUEUE" }, batch },
    ]),
  });
}

const SINK = [
  "CREATE TABLE events (source TEXT NOT NULL, id INTEGER NOT NULL, kind TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (source, id))",
];

/** Applies forwarded events with applyOnce and keeps each change's commit-to-apply delay. */
export class BenchForwardSink extends SqlActor<Env> {
  static override config = defineActor({ schema: {}, migrations: bundle("0000_sink", SINK) });

  /** Commit-to-apply delays, kept in memory (the sink writes what the hand-written sink writes). */
  #delays: number[] = [];

  receive(b: ForwardBatch): void {
    applyOnce(this, b, (changes) => {
      const now = Date.now();
      for (const c of changes) {
        const row = c.after as { id: number; kind: string; value: number };
        this.run("INSERT INTO events (source, id, kind, value) VALUES (?, ?, ?, ?)", [
          b.source,
          row.id,
          row.kind,
          row.value,
        ]);
        this.#delays.push(now - c.at);
      }
    });
  }

  count(): number {
    return Number(this.query<{ n: number }>("SELECT count(*) AS n FROM events")[0].n);
  }

  /** p50 / p99 of the commit-to-apply delays recorded so far, then forget them. */
  delays(): { n: number; p50: number; p99: number } {
    const ms = this.#delays.sort((a, b) => a - b);
    this.#delays = [];
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? -1;
    return { n: ms.length, p50: at(0.5), p99: at(0.99) };
  }
}

type HandEnv = { BENCH_FORWARD_QUEUE: Queue; HAND_SINK: DurableObjectNamespace<HandSink> };

/** The hand-written outbox: the row and an outbox row in one transaction, then send in batches of 100 (seq never reused: AUTOINCREMENT). */
export class HandOutbox extends DurableObject<HandEnv> {
  readonly #sql: SqlStorage;
  constructor(ctx: DurableObjectState, env: HandEnv) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(EVENTS[0].replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"));
    this.#sql.exec(
      "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER NOT NULL, kind TEXT NOT NULL, value REAL NOT NULL, at INTEGER NOT NULL)",
    );
  }

  async writeMany(n: number, to: "actor" | "queue"): Promise<number> {
    const start = Number(this.#sql.exec("SELECT coalesce(max(id), 0) AS m FROM events").one().m);
    for (let i = 1; i <= n; i++)
      this.ctx.storage.transactionSync(() => {
        const id = start + i;
        const kind = i % 2 ? "view" : "click";
        this.#sql.exec("INSERT INTO events (id, kind, value, secret) VALUES (?, ?, ?, ?)", id, kind, i, "s");
        this.#sql.exec(
          "INSERT INTO outbox (id, kind, value, at) VALUES (?, ?, ?, ?)",
          id,
          kind,
          i,
          Date.now(),
        );
      });
    const name = this.ctx.id.name ?? "hand";
    for (;;) {
      const rows = this.#sql
        .exec("SELECT seq, id, kind, value, at FROM outbox ORDER BY seq LIMIT 100")
        .toArray();
      if (rows.length === 0) break;
      const message = { source: name, rows };
      if (to === "queue") await this.env.BENCH_FORWARD_QUEUE.send(message as never, { contentType: "v8" });
      else await this.env.HAND_SINK.getByName(`${name}-sink`).receive(message);
      this.#sql.exec("DELETE FROM outbox WHERE seq <= ?", rows[rows.length - 1].seq);
    }
    return n;
  }
}

/** The hand-written receiver: dedup by the sender's outbox sequence, one transaction per message. */
export class HandSink extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(
      "CREATE TABLE IF NOT EXISTS events (source TEXT NOT NULL, id INTEGER NOT NULL, kind TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (source, id))",
    );
    this.#sql.exec("CREATE TABLE IF NOT EXISTS seen (source TEXT PRIMARY KEY, seq INTEGER NOT NULL)");
  }

  receive(message: { source: string; rows: Record<string, SqlStorageValue>[] }): void {
    this.ctx.storage.transactionSync(() => {
      const seen = this.#sql.exec("SELECT seq FROM seen WHERE source = ?", message.source).toArray()[0];
      const last = Number(seen?.seq ?? 0);
      for (const r of message.rows) {
        if (Number(r.seq) <= last) continue;
        this.#sql.exec(
          "INSERT INTO events (source, id, kind, value) VALUES (?, ?, ?, ?)",
          message.source,
          r.id,
          r.kind,
          r.value,
        );
      }
      const top = message.rows[message.rows.length - 1]?.seq ?? last;
      this.#sql.exec(
        "INSERT INTO seen (source, seq) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET seq = max(seq, excluded.seq)",
        message.source,
        top,
      );
    });
  }

  count(): number {
    return Number(this.#sql.exec("SELECT count(*) AS n FROM events").one().n);
  }
}
