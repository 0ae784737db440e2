import { quoteIdent } from "../database";
import { ActorError } from "../errors";
import { decodeValue, rowImage } from "./codec";
import { lastLsn } from "./store";
import { describeTable, parentsFirst, type TableInfo, userTableNames } from "./tables";

/**
 * branch(name): this actor's rows are copied into a fresh actor of the same class. The snapshot is
 * read in one synchronous pass (consistent), sent in chunks over RPC, held by the branch in memory
 * and written there in one transaction at the end, with history capture off (the branch's history
 * starts at the fork). Rows travel as the WAL's JSON images, built and read in SQL, so every value
 * arrives exactly: `sql.exec` would hand integers beyond 2^53 over rounded, and binds every number
 * as a REAL (an INTEGER in an untyped column would come back a REAL).
 */
export interface SeedBegin {
  phase: "begin";
  from: string;
  version: string | null;
  forkLsn: number;
  at: number;
  tables: { name: string; columns: string[] }[];
}
export interface SeedRows {
  phase: "rows";
  table: string;
  /** One JSON image per row (src/history/codec.ts). */
  rows: string[];
}
export interface SeedEnd {
  phase: "end";
  rows: number;
}
export type SeedMessage = SeedBegin | SeedRows | SeedEnd;

/** A snapshot larger than this is refused (it is held in memory on both sides). */
export const MAX_BRANCH_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 4 * 1024 * 1024;
const SEED_BATCH_CHARS = 1_000_000;

export const BRANCH_NAME = /^[A-Za-z0-9._-]{1,128}$/;

export function checkBranchName(name: unknown, own: string | undefined): string {
  if (typeof name !== "string" || !BRANCH_NAME.test(name))
    throw new ActorError("INVALID_NAME", "branch name must be 1-128 characters of A-Z a-z 0-9 . _ -");
  if (name === own) throw new ActorError("INVALID_NAME", "a branch needs a name other than this actor's");
  return name;
}

export function takeSnapshot(
  sql: SqlStorage,
  from: string,
  version: string | null,
): { begin: SeedBegin; chunks: SeedRows[]; rows: number } {
  if (sql.databaseSize > MAX_BRANCH_BYTES)
    throw new ActorError(
      "BRANCH_TOO_LARGE",
      `branching copies at most ${MAX_BRANCH_BYTES >> 20} MiB of data`,
      {
        size: sql.databaseSize,
      },
    );
  const tables = userTableNames(sql).map((name) => describeTable(sql, name)!);
  const chunks: SeedRows[] = [];
  let count = 0;
  for (const t of tables) {
    let rows: string[] = [];
    let bytes = 0;
    for (const [image] of sql
      .exec<{ img: string }>(`SELECT ${rowImage("", t.columns)} AS img FROM ${quoteIdent(t.name)}`)
      .raw()) {
      rows.push(image as string);
      bytes += 16 + (image as string).length * 2;
      count++;
      if (bytes >= CHUNK_BYTES || rows.length >= 20_000) {
        chunks.push({ phase: "rows", table: t.name, rows });
        rows = [];
        bytes = 0;
      }
    }
    if (rows.length) chunks.push({ phase: "rows", table: t.name, rows });
  }
  const begin: SeedBegin = {
    phase: "begin",
    from,
    version,
    forkLsn: lastLsn(sql),
    at: Date.now(),
    tables: tables.map((t) => ({ name: t.name, columns: t.columns.map((c) => c.name) })),
  };
  return { begin, chunks, rows: count };
}

/** The branch side: rows received so far, written at "end". Lost if the branch is evicted meanwhile. */
export class SeedBuffer {
  readonly rows = new Map<string, string[]>();
  count = 0;
  constructor(readonly begin: SeedBegin) {}

  add(chunk: SeedRows): void {
    if (!this.begin.tables.some((t) => t.name === chunk.table) || !Array.isArray(chunk.rows))
      throw new ActorError("VALIDATION_FAILED", "seed rows for a table not in the snapshot");
    if (!chunk.rows.every((r) => typeof r === "string"))
      throw new ActorError("VALIDATION_FAILED", "seed rows must be row images");
    const list = this.rows.get(chunk.table) ?? [];
    for (const r of chunk.rows) list.push(r);
    this.rows.set(chunk.table, list);
    this.count += chunk.rows.length;
  }
}

/** Refuse to seed an actor that already holds data or history. */
export function assertFresh(sql: SqlStorage): void {
  for (const name of userTableNames(sql)) {
    const any = sql.exec(`SELECT 1 FROM ${quoteIdent(name)} LIMIT 1`).toArray().length > 0;
    if (any)
      throw new ActorError("BRANCH_EXISTS", `an actor with this name already holds data (table ${name})`);
  }
  if (lastLsn(sql) > 0) throw new ActorError("BRANCH_EXISTS", "an actor with this name already has history");
}

/** Write the buffered rows (parents first; foreign keys checked at the end). Capture must be off. */
export function writeSeed(sql: SqlStorage, buffer: SeedBuffer): number {
  const described = new Map<string, TableInfo>();
  for (const t of buffer.begin.tables) {
    const info = describeTable(sql, t.name);
    const have = info?.columns.map((c) => c.name).join("\u0000");
    if (!info || have !== t.columns.join("\u0000"))
      throw new ActorError(
        "BRANCH_SCHEMA_MISMATCH",
        `table ${t.name} differs between the actor and its branch`,
      );
    described.set(t.name, info);
  }
  let written = 0;
  sql.exec("PRAGMA defer_foreign_keys = ON");
  try {
    for (const info of parentsFirst([...described.values()])) {
      const rows = buffer.rows.get(info.name) ?? [];
      const cols = info.columns.map((c) => quoteIdent(c.name)).join(", ");
      const values = info.columns.map((c) => decodeValue("value", c)).join(", ");
      const insert = `INSERT INTO ${quoteIdent(info.name)} (${cols}) SELECT ${values} FROM json_each(?)`;
      // A JSON array of images per statement, under DO's 2 MB cap on a bound string.
      for (let i = 0; i < rows.length; ) {
        let chars = 0;
        let end = i;
        while (end < rows.length && (end === i || chars + rows[end].length < SEED_BATCH_CHARS))
          chars += rows[end++].length + 1;
        sql.exec(insert, `[${rows.slice(i, end).join(",")}]`);
        written += end - i;
        i = end;
      }
    }
    const bad = sql.exec("SELECT 1 FROM pragma_foreign_key_check LIMIT 1").toArray();
    if (bad.length)
      throw new ActorError("BRANCH_SEED_FAILED", "the snapshot's rows do not satisfy their foreign keys");
  } finally {
    sql.exec("PRAGMA defer_foreign_keys = OFF");
  }
  return written;
}
