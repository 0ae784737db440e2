// CollaborativeDocument within DO SQLite's limits (developers.cloudflare.com/durable-objects/platform/limits):
// a string, BLOB or table row of at most 2 MB, a statement of at most 100 KB. Local workerd does not
// enforce them, so these tests watch every statement the actor runs and measure every row it wrote.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ask, call, connect, docName, edit, ofType, serverBlocks } from "./document-helpers";

const MAX_ROW_BYTES = 2_000_000;
const MAX_STATEMENT_BYTES = 100_000;
const bytes = (s: string) => new TextEncoder().encode(s).length;

interface Watched {
  statements: number;
  maxStatement: number;
  maxString: number;
}

/** Record the size of every statement and bound string the document runs until `stop` is called. */
async function watch(doc: string): Promise<{ stop(): Promise<Watched> }> {
  const seen: Watched = { statements: 0, maxStatement: 0, maxString: 0 };
  const stub = env.COLLABORATIVE_DOCUMENT.getByName(doc);
  await runInDurableObject(stub, (_actor, state) => {
    const sql = state.storage.sql;
    const exec = sql.exec;
    sql.exec = ((query: string, ...args: unknown[]) => {
      seen.statements++;
      seen.maxStatement = Math.max(seen.maxStatement, bytes(query));
      for (const a of args) if (typeof a === "string") seen.maxString = Math.max(seen.maxString, bytes(a));
      return exec.call(sql, query, ...args);
    }) as never;
    (sql as unknown as { _unwatch: () => void })._unwatch = () => {
      sql.exec = exec;
    };
  });
  return {
    async stop() {
      await runInDurableObject(stub, (_actor, state) =>
        (state.storage.sql as unknown as { _unwatch: () => void })._unwatch(),
      );
      return seen;
    },
  };
}

/** The largest row (in bytes, every column) of each table of the document that holds a row. */
async function largestRows(doc: string): Promise<Record<string, number>> {
  return runInDurableObject(env.COLLABORATIVE_DOCUMENT.getByName(doc), (_actor, state) => {
    const sql = state.storage.sql;
    const sizes: Record<string, number> = {};
    const tables = sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
      )
      .toArray();
    for (const { name } of tables) {
      const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info(?)", name).toArray();
      const size = columns.map((c) => `coalesce(length(CAST("${c.name}" AS BLOB)), 0)`).join(" + ");
      const [row] = sql.exec<{ n: number | null }>(`SELECT max(${size}) AS n FROM "${name}"`).toArray();
      if (row.n !== null) sizes[name] = row.n;
    }
    return sizes;
  });
}

describe("CollaborativeDocument: a subtree of more than 2 MB", () => {
  it("deletes, undoes, redoes and syncs in rows and statements within DO SQLite's limits", async () => {
    const doc = docName("big-subtree");
    const alice = await connect(doc, "alice");
    const bob = await connect(doc, "bob");
    await edit(alice, { type: "insert", blockId: "root", content: "section" });
    // 12 children of ~200 KB each (a frame holds at most 256 KiB): a subtree of ~2.4 MB.
    for (let i = 0; i < 12; i++)
      expect(
        (
          await edit(alice, {
            type: "insert",
            blockId: `c${i}`,
            parentId: "root",
            content: `${i} `.padEnd(200_000, "x"),
          })
        ).type,
      ).toBe("ack");
    const before = await serverBlocks(doc);
    expect(before.length).toBe(13);
    await bob.next((f) => f.type === "operation" && f.data.blockId === "c11");
    const startLsn = bob.lsn;

    const watcher = await watch(doc);
    const deleted = await edit(alice, { type: "delete", blockId: "root", baseLsn: alice.lsn });
    expect(deleted.type).toBe("ack");
    expect(await serverBlocks(doc)).toEqual([]);
    // Alice takes it back: every block returns as it was; then she deletes it again.
    const undone = await ask(alice, "undo");
    expect(undone.type).toBe("undo");
    expect(await serverBlocks(doc)).toEqual(before);
    expect(alice.view()).toEqual(before);
    await bob.next(ofType("undo"));
    expect(bob.view()).toEqual(before);
    const redone = await ask(alice, "redo");
    expect(redone.type).toBe("redo");
    expect(await serverBlocks(doc)).toEqual([]);
    // A client that missed all three gets them on sync, and ends where the document is.
    const carol = await connect(doc, "carol");
    carol.blocks.clear();
    for (const b of before) carol.blocks.set(b.id, b);
    await ask(carol, "sync", { sinceLsn: startLsn });
    expect(
      carol.take((f) => f.type === "operation" || f.type === "undo" || f.type === "redo").map((f) => f.type),
    ).toEqual(["operation", "undo", "redo"]);
    expect(carol.view()).toEqual([]);
    const seen = await watcher.stop();

    expect(seen.statements).toBeGreaterThan(0);
    expect(seen.maxStatement).toBeLessThanOrEqual(MAX_STATEMENT_BYTES);
    expect(seen.maxString).toBeLessThanOrEqual(MAX_ROW_BYTES);
    for (const [table, size] of Object.entries(await largestRows(doc)))
      expect({ table, size: Math.min(size, MAX_ROW_BYTES + 1) }).toEqual({
        table,
        size: Math.min(size, MAX_ROW_BYTES),
      });
    // The history route still shows the delete with the whole subtree before it.
    const history = ((await (await call(`/documents/${doc}/history?limit=3`)).json()) as any).history;
    expect(history.map((e: any) => e.kind)).toEqual(["redo", "undo", "edit"]);
    expect(history[2].before.map((r: any) => r.id).sort()).toEqual(before.map((b) => b.id));
    expect(history[1].operation.blocks.length).toBe(13);
    alice.close();
    bob.close();
    carol.close();
  });
});

describe("CollaborativeDocument: a sync of many large changes", () => {
  it("is a refresh past 8 MiB of missed changes (held in memory at once), exact below it", async () => {
    const doc = docName("big-sync");
    const alice = await connect(doc, "alice");
    await edit(alice, { type: "insert", blockId: "code", blockType: "code", content: "" });
    const from = alice.lsn;
    // Typing in a large code block: every update carries the whole block (~240 KB each).
    for (let i = 0; i < 36; i++)
      expect(
        (await edit(alice, { type: "update", blockId: "code", content: `${i}`.padEnd(240_000, "z") })).type,
      ).toBe("ack");
    const bob = await connect(doc, "bob");
    bob.take(() => true);
    const synced = await ask(bob, "sync", { sinceLsn: from });
    expect(synced.data).toMatchObject({ refreshed: true, reason: "too_many" });
    expect(bob.take(ofType("operation"))).toEqual([]);
    expect(bob.view()).toEqual(await serverBlocks(doc));
    // A few of them are sent as they were.
    const recent = await ask(bob, "sync", { sinceLsn: synced.data.lsn - 3 });
    expect(recent.data).toMatchObject({ refreshed: false });
    expect(bob.take(ofType("operation")).length).toBe(3);
    alice.close();
    bob.close();
  });
});
