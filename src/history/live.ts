import { toHex } from "../hex";
import type { Row } from "./codec";
import { type Change, readChanges } from "./feed";
import { lastLsn } from "./store";
import type { TableInfo } from "./tables";
import type { LiveHost } from "./types";

/** Live subscribers listen to `changes:<table>` (or `changes:*`), for tables `history.live` grants. */
export const LIVE_TOPIC = "changes:";
const FRAME = 500;
const MAX_PER_PUSH = 5000;

/**
 * Pushes new changes to WebSocket topics `changes:<table>` after each commit: a write queues one
 * microtask (it runs once the current synchronous work, its transaction included, is done), which
 * reads what was written since the last push and sends one frame per table (at most 500 changes a
 * frame; past 5,000 a `changes:overflow` frame says where to resume with `changes()`).
 */
export class LiveFeed {
  readonly #sql: SqlStorage;
  readonly #host: LiveHost;
  readonly #tables: () => ReadonlyMap<string, TableInfo>;
  readonly #grants: ReadonlyMap<string, ReadonlySet<string> | undefined>;
  #pushed = 0;
  #queued = false;

  constructor(
    sql: SqlStorage,
    host: LiveHost,
    tables: () => ReadonlyMap<string, TableInfo>,
    grants: ReadonlyMap<string, ReadonlySet<string> | undefined>,
  ) {
    this.#sql = sql;
    this.#host = host;
    this.#tables = tables;
    this.#grants = grants;
  }

  /** May `changes:<table>` (or `changes:*`) be listened to at all? (`history.live` grants it.) */
  allows(topic: string): boolean {
    const table = topic.slice(LIVE_TOPIC.length);
    return table === "*" ? this.#grants.size > 0 : this.#grants.has(table);
  }

  /** Nothing before `lsn` is pushed (on wake: live subscribers only get what happens while connected). */
  startAfter(lsn: number): void {
    this.#pushed = lsn;
  }

  queue(): void {
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      try {
        this.#push();
      } catch {
        // A failed push must not fail the write; subscribers can always catch up with changes().
        this.#pushed = lastLsn(this.#sql);
      }
    });
  }

  #push(): void {
    const topics = new Set([...this.#host.topics()].filter((t) => t.startsWith(LIVE_TOPIC)));
    const last = lastLsn(this.#sql);
    let from = this.#pushed + 1;
    this.#pushed = Math.max(this.#pushed, last);
    if (topics.size === 0) return;
    for (let sent = 0; from <= last; ) {
      if (sent >= MAX_PER_PUSH) {
        for (const topic of topics) this.#host.send({ type: "changes:overflow", nextLsn: from }, topic);
        return;
      }
      const page = readChanges(this.#sql, this.#tables(), { fromLsn: from, limit: FRAME });
      if (page.changes.length === 0) return;
      const byTable = new Map<string, unknown[]>();
      for (const c of page.changes) {
        if (!this.#grants.has(c.table)) continue; // never sent, not even on changes:*
        const list = byTable.get(c.table) ?? [];
        list.push(toWire(c, this.#grants.get(c.table)));
        byTable.set(c.table, list);
      }
      for (const [table, changes] of byTable)
        for (const topic of [`${LIVE_TOPIC}${table}`, `${LIVE_TOPIC}*`])
          if (topics.has(topic))
            this.#host.send({ type: "changes", table, changes, nextLsn: page.nextLsn }, topic);
      sent += page.changes.length;
      from = page.nextLsn;
    }
  }
}

/** A change as JSON for a WebSocket frame: only the granted columns, bytes as {"$b": hex}. */
function toWire(change: Change, columns: ReadonlySet<string> | undefined): unknown {
  const fix = (row: Row | null) =>
    row &&
    Object.fromEntries(
      Object.entries(row)
        .filter(([k]) => !columns || columns.has(k))
        .map(([k, v]) => [k, v instanceof Uint8Array ? { $b: toHex(v) } : v]),
    );
  const wire = { ...change, key: fix(change.key), before: fix(change.before), after: fix(change.after) };
  if (columns && change.changed) wire.changed = change.changed.filter((c) => columns.has(c));
  return wire;
}
