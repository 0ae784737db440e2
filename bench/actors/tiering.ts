import { DurableObject } from "cloudflare:workers";
import { defineActor, SqlActor } from "../../src/index";
import { tiering } from "../../src/tiering/index";

const CREATE =
  "CREATE TABLE IF NOT EXISTS readings (id INTEGER PRIMARY KEY, sensor TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL, note TEXT)";
const INDEX = "CREATE INDEX IF NOT EXISTS readings_ts ON readings (ts)";
export const DAY = 86_400_000;
export const T0 = Date.UTC(2026, 0, 1);

/** `n` readings over `days` days from T0, the same rows on both sides. */
function seed(sql: SqlStorage, transaction: (fn: () => void) => void, n: number, days: number): void {
  transaction(() => {
    for (let at = 0; at < n; at += 5_000) {
      const rows = [];
      for (let i = at; i < Math.min(n, at + 5_000); i++)
        rows.push([
          i + 1,
          `sensor-${i % 50}`,
          T0 + Math.floor((i * days * DAY) / n),
          (i % 1000) * 0.25,
          i % 10 ? `n${i % 13}` : null,
        ]);
      sql.exec(
        "INSERT INTO readings SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(?)",
        JSON.stringify(rows),
      );
    }
  });
}

/** The framework side: `this.tiering`. */
export class BenchTiered extends SqlActor<Env> {
  static override config = defineActor({
    schema: {},
    migrations: { migrations: { "0000_readings": `${CREATE};\n--> statement-breakpoint\n${INDEX}` } },
    tiering: tiering({ stepBudgetMs: 600_000 }),
  });

  seed(n: number, days: number): number {
    seed(this.ctx.storage.sql, (fn) => this.transaction(fn), n, days);
    return n;
  }

  async archiveAll(cutoff: number): Promise<{ rows: number; files: number }> {
    const total = { rows: 0, files: 0 };
    for (;;) {
      const r = await this.tiering.archive({
        table: "readings",
        timeColumn: "ts",
        olderThan: cutoff,
        partition: "day",
      });
      total.rows += r.rows;
      total.files += r.files;
      if (r.done) return total;
    }
  }

  async cold(sql: string): Promise<unknown[]> {
    return this.tiering.query(sql);
  }
}

/** A hand-written Durable Object holding the readings table, seeded like the framework's. */
abstract class PlainReadings extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(CREATE);
    ctx.storage.sql.exec(INDEX);
  }

  seed(n: number, days: number): number {
    seed(this.ctx.storage.sql, (fn) => this.ctx.storage.transactionSync(fn), n, days);
    return n;
  }
}

/**
 * The baseline archiver, written by hand: the same chunks (one day, 20,000 rows at most), the same
 * Parquet writer and row groups, one put per file, then the same DELETE. No manifest, no check that
 * the rows did not change during the put, no content hash, no pending-key bookkeeping.
 */
export class PlainArchiver extends PlainReadings {
  async archiveAll(cutoff: number): Promise<{ rows: number; files: number }> {
    const { parquetWriteBuffer } = await import("hyparquet-writer/src/index.js");
    const sql = this.ctx.storage.sql;
    const total = { rows: 0, files: 0 };
    for (;;) {
      const oldest = sql.exec("SELECT min(ts) AS m FROM readings WHERE ts < ?", cutoff).one().m as
        | number
        | null;
      if (oldest === null) return total;
      const lo = oldest - (oldest % DAY);
      const hi = Math.min(lo + DAY, cutoff);
      const rows = [
        ...sql
          .exec(
            "SELECT rowid, id, sensor, ts, value, note FROM readings WHERE ts >= ? AND ts < ? ORDER BY ts, rowid LIMIT 20000",
            lo,
            hi,
          )
          .raw(),
      ];
      const col = (i: number) => rows.map((r) => r[i]);
      const buffer = parquetWriteBuffer({
        columnData: [
          { name: "id", type: "INT64", data: col(1).map((v) => BigInt(v as number)) },
          { name: "sensor", type: "STRING", data: col(2) as string[] },
          { name: "ts", type: "INT64", data: col(3).map((v) => BigInt(v as number)) },
          { name: "value", type: "DOUBLE", data: col(4) as number[] },
          { name: "note", type: "STRING", data: col(5) as string[] },
        ],
        rowGroupSize: 5_000,
      });
      const first = rows[0];
      const last = rows[rows.length - 1];
      await this.env.ARCHIVE.put(`plain/${this.ctx.id.name}/${lo}/${first[0]}.parquet`, buffer);
      sql.exec(
        "DELETE FROM readings WHERE ts >= ? AND ts < ? AND (ts, rowid) >= (?, ?) AND (ts, rowid) <= (?, ?)",
        lo,
        hi,
        first[3],
        first[0],
        last[3],
        last[0],
      );
      total.rows += rows.length;
      total.files++;
    }
  }
}

/** The hot baseline of cold queries: the same rows kept in SQLite, the same SQL. */
export class PlainHot extends PlainReadings {
  query(sql: string): unknown[] {
    return this.ctx.storage.sql.exec(sql).toArray();
  }
}
