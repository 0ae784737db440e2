import { env, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { vi } from "vitest";
import type { BuildingTelemetry } from "../actors/index";
import { ActorError } from "../src/index";

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

let seq = 0;
export const freshName = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${seq++}`;
export const building = (name: string) => env.BUILDING_TELEMETRY.getByName(name);
export type BuildingStub = DurableObjectStub<BuildingTelemetry>;

/** The start of the hour two hours ago: every reading of a test lands in known minutes and hours. */
export const baseHour = () => Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;

/** The test Worker's default export (the coordinator, development mode: every route open). */
const worker = (exports as unknown as { default: { fetch(request: Request): Promise<Response> } }).default;

export function call(method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { "content-type": "application/json" };
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  return worker.fetch(new Request(`http://coordinator${path}`, init));
}

export async function json<T = any>(res: Response | Promise<Response>): Promise<{ status: number; body: T }> {
  const r = await res;
  return { status: r.status, body: (await r.json()) as T };
}

export async function codeOf(
  promise: Promise<unknown>,
): Promise<{ code?: string; details?: any; message?: string }> {
  try {
    await promise;
  } catch (err) {
    const e = ActorError.from(err);
    return e
      ? { code: e.code, details: e.details, message: e.description }
      : { code: `untyped: ${String(err)}` };
  }
  return {};
}

export function reading(sensorId: string, ts: number, value: number, extra: Record<string, unknown> = {}) {
  return { sensorId, sensorType: "temperature" as const, value, unit: "C", timestamp: ts, ...extra };
}

/** One hourly_aggregates change of sensor t-1 as a forward batch carries it (for batches made by hand). */
export function hourlyChange(lsn: number, tx: number, hour: number, figures: Record<string, number>) {
  return {
    lsn,
    tx,
    at: Date.now(),
    table: "hourly_aggregates",
    op: "update" as const,
    key: { sensor_id: "t-1", hour },
    before: null,
    after: { sensor_id: "t-1", sensor_type: "temperature", hour, ...figures },
  };
}

/** Rows straight from the actor's tables. */
export function rows<T = Record<string, unknown>>(stub: BuildingStub, sql: string, params: unknown[] = []) {
  return runInDurableObject(stub, (actor: BuildingTelemetry) => actor.query(sql, params) as T[]);
}

/** Make a schedule due now (so runDurableObjectAlarm runs it). */
export function makeDue(stub: BuildingStub, key: string) {
  return runInDurableObject(stub, async (actor: BuildingTelemetry, state) => {
    actor.query("UPDATE _dosql_schedules SET next_run_at = ? WHERE key = ?", [Date.now() - 1, key]);
    await state.storage.setAlarm(Date.now() + 1);
  });
}

type Frame = any;

/** A real WebSocket client of the alerts socket, through the coordinator's route. */
export async function alertsSocket(name: string) {
  const res = await worker.fetch(
    new Request(`http://coordinator/buildings/${name}/alerts/ws?_pk=${freshName("c")}`, {
      headers: { Upgrade: "websocket" },
    }),
  );
  if (res.status !== 101) throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
  const ws = res.webSocket!;
  ws.accept();
  const unread: { frame: Frame; at: number }[] = [];
  const received: Frame[] = [];
  ws.addEventListener("message", (event: MessageEvent) => {
    const frame = JSON.parse(event.data as string);
    received.push(frame);
    unread.push({ frame, at: performance.now() });
  });
  return {
    ws,
    received,
    send: (frame: unknown) => ws.send(JSON.stringify(frame)),
    /** The first unread frame of `type` (waits for it), with the time it arrived. */
    next: (type: string) =>
      vi.waitFor(
        () => {
          const i = unread.findIndex((u) => u.frame?.type === type);
          if (i < 0) throw new Error(`no ${type} frame yet; unread: ${JSON.stringify(unread)}`);
          return unread.splice(i, 1)[0];
        },
        { timeout: 5_000, interval: 2 },
      ),
  };
}
