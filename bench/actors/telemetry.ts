import { DurableObject } from "cloudflare:workers";
import { BuildingTelemetry, buildingConfig } from "../../actors/building-telemetry/building-telemetry";
import {
  INSERT_MANY,
  INSERT_ONE,
  MARK_PENDING,
  MINUTE_MANY,
  MINUTE_ONE,
} from "../../actors/building-telemetry/ingest-sql";
import type { SensorType } from "../../actors/building-telemetry/schema";
import init from "../../migrations/building-telemetry/0000_init.sql";

/** `n` readings of `sensors` sensors, one second apart per sensor, ending now. */
function makeReadings(n: number, sensors: number, value: (i: number) => number) {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    sensorId: `s-${i % sensors}`,
    sensorType: "temperature" as SensorType,
    value: value(i),
    unit: "C",
    quality: 100,
    timestamp: now - (n - i) * 10,
  }));
}

/**
 * The framework side: the real BuildingTelemetry, plus methods that ingest `n` readings in one
 * call. `warm`: first (once per instance) one reading and a rollup, so the history WAL holds a
 * change, as it does in any building after its first rollup (an empty WAL costs more per commit:
 * see the closing note).
 */
export class BenchBuilding extends BuildingTelemetry {
  #warmed = false;

  async benchBatches(n: number, size: number, warm = true): Promise<number> {
    const readings = makeReadings(n, 100, (i) => 20 + (i % 40) * 0.25);
    if (warm) await this.#warm(readings[0]);
    for (let i = 0; i < n; i += size) await this.ingestBatch(readings.slice(i, i + size));
    return n;
  }

  async benchSingles(n: number, warm = true): Promise<number> {
    const readings = makeReadings(n, 100, (i) => 20 + (i % 40) * 0.25);
    if (warm) await this.#warm(readings[0]);
    for (const r of readings) await this.ingest(r);
    return n;
  }

  async #warm(reading: Reading): Promise<void> {
    if (this.#warmed) return;
    this.#warmed = true;
    await this.ingest(reading);
    this.rollup();
  }
}

/** The same building without the outbox to the central actor (no history, no forward). */
export class BenchLocalBuilding extends BenchBuilding {
  static override config = buildingConfig({ central: false });
}

const TYPES = new Set(["temperature", "humidity", "co2", "occupancy", "power", "water"]);
const MINUTE = 60_000;
const HOUR = 3_600_000;
interface Reading {
  sensorId: string;
  sensorType: SensorType;
  value: number;
  unit: string;
  quality: number;
  timestamp: number;
}

/**
 * The baseline: a hand-written Durable Object doing the same ingest with the same SQL and the
 * same checks (written by hand, no zod), from the actor's own migration. No rules are configured
 * on either side, so alert evaluation is an empty lookup on both.
 */
export class PlainBuilding extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #pending = new Set<number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    const exists = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'readings'").toArray().length > 0;
    if (!exists)
      ctx.storage.transactionSync(() => {
        for (const statement of init.split("--> statement-breakpoint")) this.#sql.exec(statement);
      });
  }

  /** The alert side (the latency bench): one `gt` rule held in memory, and its stored row. */
  #rule: { id: number; sensorType: string; threshold: number } | undefined;
  /** Open alert per sensor (one rule). */
  readonly #open = new Map<string, number>();

  /** The alerts socket (hibernation API), as the actor's: an `init` frame, then alert frames. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket")
      return new Response("a WebSocket", { status: 426 });
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    const open = this.#sql.exec("SELECT * FROM active_alerts WHERE status = 'ACTIVE'").toArray();
    server.send(JSON.stringify({ type: "init", data: { alerts: open } }));
    return new Response(null, { status: 101, webSocket: client });
  }

  setRule(sensorType: string, threshold: number): number {
    const now = Date.now();
    const id = this.#sql
      .exec<{ id: number }>(
        `INSERT INTO alert_rules (sensor_type, condition, threshold_value, severity, cooldown_seconds, enabled, created_at, updated_at)
         VALUES (?, 'gt', ?, 'warning', 0, 1, ?, ?) RETURNING id`,
        sensorType,
        threshold,
        now,
        now,
      )
      .one().id;
    this.#rule = { id, sensorType, threshold };
    return id;
  }

  /**
   * One reading as the actor's `ingest` takes it (validated, stored, aggregated), checked against
   * the rule in the same transaction; the alert (or its resolution) is sent to every socket once
   * the transaction has committed.
   */
  ingestOne(input: Omit<Reading, "quality"> & { quality?: number }): {
    alerts: number[];
    resolved: number[];
  } {
    const r = { quality: 100, ...input };
    const out = { alerts: [] as number[], resolved: [] as number[] };
    let frame: string | undefined;
    this.ctx.storage.transactionSync(() => {
      this.#ingest([r]);
      const rule = this.#rule;
      if (!rule || rule.sensorType !== r.sensorType) return;
      const open = this.#open.get(r.sensorId);
      if (r.value > rule.threshold && open === undefined) {
        const row = this.#sql
          .exec<{ id: number }>(
            `INSERT INTO active_alerts (rule_id, sensor_id, sensor_type, trigger_value, threshold_value, severity, status, triggered_at)
             VALUES (?, ?, ?, ?, ?, 'warning', 'ACTIVE', ?) RETURNING *`,
            rule.id,
            r.sensorId,
            r.sensorType,
            r.value,
            rule.threshold,
            r.timestamp,
          )
          .one();
        this.#open.set(r.sensorId, row.id);
        out.alerts.push(row.id);
        frame = JSON.stringify({ type: "alert", data: row });
      } else if (r.value <= rule.threshold && open !== undefined) {
        const row = this.#sql
          .exec(
            `UPDATE active_alerts SET status = 'RESOLVED', resolved_at = ?, resolved_reason = 'back in range'
             WHERE id = ? RETURNING *`,
            r.timestamp,
            open,
          )
          .one();
        this.#open.delete(r.sensorId);
        out.resolved.push(open);
        frame = JSON.stringify({ type: "alert-resolved", data: row });
      }
    });
    if (frame !== undefined) for (const ws of this.ctx.getWebSockets()) ws.send(frame);
    return out;
  }

  /** A call that does nothing: the round trip to the object alone. */
  ping(): number {
    return 1;
  }

  benchBatches(n: number, size: number): number {
    const readings = makeReadings(n, 100, (i) => 20 + (i % 40) * 0.25);
    for (let i = 0; i < n; i += size) this.#ingest(readings.slice(i, i + size));
    return n;
  }

  benchSingles(n: number): number {
    const readings = makeReadings(n, 100, (i) => 20 + (i % 40) * 0.25);
    for (const r of readings) this.#ingest([r]);
    return n;
  }

  #ingest(readings: Reading[]): void {
    const now = Date.now();
    readings.forEach((r, i) => {
      if (
        typeof r.sensorId !== "string" ||
        r.sensorId.length < 1 ||
        r.sensorId.length > 128 ||
        !TYPES.has(r.sensorType) ||
        !Number.isFinite(r.value) ||
        typeof r.unit !== "string" ||
        !Number.isInteger(r.quality) ||
        r.quality < 0 ||
        r.quality > 100 ||
        !Number.isInteger(r.timestamp) ||
        r.timestamp > now + HOUR
      )
        throw new Error(`reading ${i} is invalid`);
    });
    this.ctx.storage.transactionSync(() => {
      if (readings.length === 1) {
        const r = readings[0];
        this.#sql.exec(INSERT_ONE, r.sensorId, r.sensorType, r.value, r.unit, r.quality, r.timestamp, now);
      } else
        this.#sql.exec(
          INSERT_MANY,
          now,
          JSON.stringify(
            readings.map((r) => [r.sensorId, r.sensorType, r.value, r.unit, r.quality, r.timestamp]),
          ),
        );
      const groups = new Map<string, [string, string, number, number, number, number, number, number]>();
      for (const r of readings) {
        const minute = r.timestamp - (r.timestamp % MINUTE);
        const key = `${r.sensorId}\u0000${minute}`;
        const g = groups.get(key);
        if (!g) groups.set(key, [r.sensorId, r.sensorType, minute, r.value, r.value, r.value, 1, r.quality]);
        else {
          if (r.value < g[3]) g[3] = r.value;
          if (r.value > g[4]) g[4] = r.value;
          g[5] += r.value;
          g[6] += 1;
          g[7] += r.quality;
        }
        const hour = r.timestamp - (r.timestamp % HOUR);
        if (!this.#pending.has(hour)) {
          this.#sql.exec(MARK_PENDING, hour);
          this.#pending.add(hour);
        }
      }
      const rows = [...groups.values()];
      for (const g of rows) g[7] = g[7] / g[6];
      if (rows.length === 1) this.#sql.exec(MINUTE_ONE, ...rows[0]);
      else this.#sql.exec(MINUTE_MANY, JSON.stringify(rows));
    });
  }
}

/**
 * The hand-written Worker in front of PlainBuilding's alert side (`/hand-buildings/:b/...`):
 * `POST ingest` (one reading, checked by the object), `POST rules` ({ sensorType, threshold }),
 * `GET alerts/ws` (the socket), `POST ping` (a call that does nothing: the hop to the object).
 */
export async function handBuildingHttp(
  request: Request,
  ns: DurableObjectNamespace<PlainBuilding>,
): Promise<Response> {
  const match = /^\/hand-buildings\/([A-Za-z0-9._-]{1,128})\/(ingest|rules|alerts\/ws|ping)$/.exec(
    new URL(request.url).pathname,
  );
  if (!match) return Response.json({ error: { code: "NOT_FOUND", message: "no route" } }, { status: 404 });
  const stub = ns.getByName(match[1]);
  switch (match[2]) {
    case "alerts/ws":
      return stub.fetch(request);
    case "ping":
      return Response.json({ ok: await stub.ping() });
    case "rules": {
      const { sensorType, threshold } = (await request.json()) as { sensorType: string; threshold: number };
      return Response.json({ id: await stub.setRule(sensorType, threshold) });
    }
    default:
      try {
        return Response.json(await stub.ingestOne(await request.json()));
      } catch (err) {
        return Response.json({ error: { code: "VALIDATION_FAILED", message: String(err) } }, { status: 400 });
      }
  }
}

/** What the in-Worker alert loop needs of either side. */
interface AlertSide {
  socket(): Promise<Response>;
  ingest(reading: Omit<Reading, "quality">): Promise<unknown>;
}

/**
 * The alert latency without Node's HTTP: inside the bench Worker, a WebSocket on the side's alerts
 * socket, then `k` times an RPC ingest of a breach (timed until its `alert` frame arrives on that
 * socket) and one of a recovery (until its `alert-resolved` frame). Times are the Worker's clock
 * (workerd advances it on I/O, so each figure spans the RPC and the frame).
 */
export async function alertLoop(side: AlertSide, k: number): Promise<{ k: number; ms: number[] }> {
  const res = await side.socket();
  const ws = res.webSocket;
  if (!ws) throw new Error(`alerts socket refused: ${res.status}`);
  ws.accept();
  const waiting = new Map<string, () => void>();
  ws.addEventListener("message", (event) => {
    const type = JSON.parse(event.data as string).type as string;
    waiting.get(type)?.();
    waiting.delete(type);
  });
  const frame = (type: string) => new Promise<void>((resolve) => waiting.set(type, resolve));
  const ms: number[] = [];
  const t = Date.now() - 60_000;
  const base = { sensorId: "w-1", sensorType: "co2" as SensorType, unit: "ppm" };
  for (let i = 0; i < k; i++) {
    const alert = frame("alert");
    const t0 = performance.now();
    await side.ingest({ ...base, value: 1500, timestamp: t + i * 2 });
    await alert;
    ms.push(performance.now() - t0);
    const resolved = frame("alert-resolved");
    await side.ingest({ ...base, value: 500, timestamp: t + i * 2 + 1 });
    await resolved;
  }
  ws.close();
  return { k, ms };
}
