import type { ActorConnection } from "../broadcast/state";
import { ActorError } from "../errors";
import { toHex } from "../hex";
import { floorLsn, lastLsn, WAL } from "../history/store";
import type { TableInfo } from "../history/tables";
import { analyzeLiveQuery, bind, checkParams, type LiveParam, type LiveQuery } from "./live-sql";
import type { CallId } from "./protocol";

/** One live query of a connection, kept in its socket state (survives hibernation). */
export interface LiveSub {
  id: CallId;
  sql: string;
  params: LiveParam[];
  table: string;
  /** The LSN the client holds: the last one answered or pushed. */
  lsn: number;
}

/** What the rpc part keeps on a connection (`ConnectionState.rpc`). */
export interface RpcState {
  role: string | null;
  live?: LiveSub[];
}

export interface LiveHost {
  sql: SqlStorage;
  /** Tables under history (undefined: history is off). */
  tracked(): ReadonlyMap<string, TableInfo> | undefined;
  schemaVersion(): string | null;
  connections(): Iterable<ActorConnection>;
  rpcState(connection: ActorConnection): RpcState;
  setRpcState(connection: ActorConnection, state: RpcState): void;
  send(connection: ActorConnection, frame: string): boolean;
}

/** What `subscribe` answers. */
export interface LiveSnapshot {
  sub: CallId;
  table: string;
  /** Primary key columns: rows are keyed by them (`removed` lists key values in this order). */
  key: string[];
  lsn: number;
  rows: Record<string, unknown>[];
  removed: unknown[][];
  /** True: `rows`/`removed` are the changes since `fromLsn`; false: `rows` is the whole result. */
  resumed: boolean;
}

type Wire = Record<string, unknown>;
const CACHE = 64;

/**
 * Live queries: answered with the rows and the LSN, then kept up to date after every commit from
 * the WAL (history calls `committed(from, last)` once the commit's changes are readable; rolled
 * back changes never reach the WAL, so they are never pushed).
 */
export class LiveQueries {
  readonly #host: LiveHost;
  readonly #maxPerConnection: number;
  readonly #cache = new Map<string, LiveQuery>();
  /** How far each live query was checked (in memory; on wake it restarts from the LSN the client holds). */
  readonly #checked = new Map<string, number>();

  constructor(host: LiveHost, maxPerConnection: number) {
    this.#host = host;
    this.#maxPerConnection = maxPerConnection;
  }

  /** Check a query (cached per schema version and text) and say which table it reads. */
  analyze(sql: unknown, params: unknown): { query: LiveQuery; params: LiveParam[] } {
    const tracked = this.#host.tracked();
    if (!tracked) throw new ActorError("HISTORY_DISABLED", "live queries need history on the table");
    const checked = checkParams(params);
    const key = `${this.#host.schemaVersion()}\u0000${String(sql)}\u0000${checked.length}`;
    let query = this.#cache.get(key);
    if (!query) {
      query = analyzeLiveQuery(this.#host.sql, sql, checked, tracked);
      if (this.#cache.size >= CACHE) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(key, query);
    }
    return { query, params: checked };
  }

  /** Start (or, with `fromLsn`, resume) a live query named `id` on `connection`. */
  subscribe(
    connection: ActorConnection,
    id: CallId,
    query: LiveQuery,
    params: LiveParam[],
    fromLsn: unknown,
  ): LiveSnapshot {
    if (fromLsn !== undefined && (!Number.isSafeInteger(fromLsn) || (fromLsn as number) < 0))
      throw new ActorError("VALIDATION_FAILED", "fromLsn: the LSN of the last change the client holds");
    const state = this.#host.rpcState(connection);
    const live = (state.live ?? []).filter((s) => s.id !== id);
    if (live.length >= this.#maxPerConnection)
      throw new ActorError(
        "TOO_MANY_LIVE_QUERIES",
        `a connection holds at most ${this.#maxPerConnection} live queries`,
      );
    const sql = this.#host.sql;
    const last = lastLsn(sql);
    const table = query.table;
    const snapshot: LiveSnapshot = {
      sub: id,
      table: table.name,
      key: table.pk,
      lsn: last,
      rows: [],
      removed: [],
      resumed: false,
    };
    const from = fromLsn as number | undefined;
    if (from !== undefined && from <= last && from >= floorLsn(sql) - 1) {
      const changes = this.#changes(query, params, from, last);
      snapshot.rows = changes.rows;
      snapshot.removed = changes.removed;
      snapshot.resumed = true;
    } else {
      snapshot.rows = sql
        .exec(query.sql, ...bind(params))
        .toArray()
        .map(wireRow);
    }
    live.push({ id, sql: query.sql, params, table: table.name, lsn: last });
    this.#host.setRpcState(connection, { ...state, live });
    this.#checked.set(subKey(connection, id), last);
    return snapshot;
  }

  unsubscribe(connection: ActorConnection, id: CallId): boolean {
    const state = this.#host.rpcState(connection);
    const live = state.live ?? [];
    const rest = live.filter((s) => s.id !== id);
    this.#checked.delete(subKey(connection, id));
    if (rest.length === live.length) return false;
    this.#host.setRpcState(connection, { ...state, live: rest });
    return true;
  }

  closed(connection: ActorConnection): void {
    for (const sub of this.#host.rpcState(connection).live ?? [])
      this.#checked.delete(subKey(connection, sub.id));
  }

  /** Changes [from, last] were committed: push what they changed to every live query they touch. */
  committed(from: number, last: number): void {
    const targets: { connection: ActorConnection; state: RpcState; sub: LiveSub }[] = [];
    for (const connection of this.#host.connections()) {
      const state = this.#host.rpcState(connection);
      for (const sub of state.live ?? []) targets.push({ connection, state, sub });
    }
    if (targets.length === 0) return;
    const sql = this.#host.sql;
    const touched = new Set(
      sql
        .exec<{ tbl: string }>(`SELECT DISTINCT tbl FROM ${WAL} WHERE lsn >= ? AND lsn <= ?`, from, last)
        .toArray()
        .map((r) => r.tbl),
    );
    // Subscribers of the same query checked up to the same LSN share one evaluation and one frame body.
    const groups = new Map<string, { tail: string | null; targets: typeof targets; error?: ActorError }>();
    const floor = floorLsn(sql);
    for (const target of targets) {
      if (!touched.has(target.sub.table)) continue;
      const key = subKey(target.connection, target.sub.id);
      const checked = Math.max(this.#checked.get(key) ?? target.sub.lsn, target.sub.lsn);
      if (checked >= last) continue;
      const groupKey = `${checked}\u0000${target.sub.sql}\u0000${JSON.stringify(target.sub.params)}`;
      let group = groups.get(groupKey);
      if (!group) {
        group = { tail: null, targets: [] };
        try {
          if (checked < floor - 1)
            throw new ActorError(
              "HISTORY_PRUNED",
              `changes before LSN ${floor} were pruned; subscribe again`,
            );
          const { query, params } = this.analyze(target.sub.sql, target.sub.params);
          const changes = this.#changes(query, params, checked, last);
          if (changes.rows.length || changes.removed.length)
            group.tail = `,"lsn":${last},"rows":${JSON.stringify(changes.rows)},"removed":${JSON.stringify(changes.removed)}}`;
        } catch (err) {
          group.error = ActorError.from(err) ?? new ActorError("INTERNAL", "the live query failed");
        }
        groups.set(groupKey, group);
      }
      group.targets.push(target);
    }
    const advanced = new Map<ActorConnection, { state: RpcState; subs: Map<CallId, number | null> }>();
    for (const group of groups.values())
      for (const { connection, state, sub } of group.targets) {
        this.#checked.set(subKey(connection, sub.id), last);
        let frame: string | null = null;
        if (group.error)
          frame = `{"sub":${JSON.stringify(sub.id)},"error":${JSON.stringify({ code: group.error.code, message: group.error.description })}}`;
        else if (group.tail) frame = `{"sub":${JSON.stringify(sub.id)},"since":${sub.lsn}${group.tail}`;
        if (frame === null) continue; // nothing this query shows changed: the client's LSN stays
        this.#host.send(connection, frame);
        const entry = advanced.get(connection) ?? { state, subs: new Map() };
        entry.subs.set(sub.id, group.error ? null : last);
        advanced.set(connection, entry);
      }
    for (const [connection, { state, subs }] of advanced) {
      const live = (state.live ?? []).flatMap((s) => {
        if (!subs.has(s.id)) return [s];
        const lsn = subs.get(s.id);
        return lsn === null ? [] : [{ ...s, lsn: lsn as number }];
      });
      try {
        this.#host.setRpcState(connection, { ...state, live });
      } catch {
        // The state could not grow (it only shrinks or keeps its size here); the next push retries.
      }
    }
  }

  /** Rows (newest image) that match the query now, and keys that matched before the range and no longer do. */
  #changes(
    query: LiveQuery,
    params: LiveParam[],
    after: number,
    upTo: number,
  ): { rows: Wire[]; removed: unknown[][] } {
    const sql = this.#host.sql;
    const table = query.table;
    if (after >= upTo) return { rows: [], removed: [] };
    const args = [after, upTo, table.name, ...bind(params)];
    const rows = sql.exec(query.afterSql, ...args).toArray();
    const now = new Set(rows.map((r) => keyText(table.pk.map((c) => r[c]))));
    const removed: unknown[][] = [];
    for (const before of sql.exec(query.beforeSql, ...args)) {
      const key = table.pk.map((c) => wireValue(before[c]));
      if (!now.has(keyText(key))) removed.push(key);
    }
    return { rows: rows.map(wireRow), removed };
  }
}

function subKey(connection: ActorConnection, id: CallId): string {
  return `${connection.id}\u0000${typeof id}:${id}`;
}

/** Bytes as {"$b": hex} (as the WAL images and the change feed carry them). */
function wireValue(value: unknown): unknown {
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    const bytes =
      value instanceof ArrayBuffer
        ? new Uint8Array(value)
        : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return { $b: toHex(bytes) };
  }
  return value;
}

function wireRow(row: Record<string, unknown>): Wire {
  const out: Wire = {};
  for (const [k, v] of Object.entries(row)) out[k] = wireValue(v);
  return out;
}

function keyText(values: unknown[]): string {
  return JSON.stringify(values.map(wireValue));
}
