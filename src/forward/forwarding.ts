import { ActorError } from "../errors";
import type { HistoryEngine } from "../history/engine";
import { type DeliveryHost, Forwarder } from "./delivery";
import { exportedColumns } from "./project";
import { ForwardState, subscriberId } from "./state";
import { checkTargetBinding, targetLabel } from "./targets";
import type { ForwardBatch, ForwardStatus, ResolvedForward } from "./types";

/** What the forwards of an actor need from it (SqlActor wires these; this part never imports it). */
export interface ForwardHost {
  storage: DurableObjectStorage;
  env: object;
  /** `ctx.id.name`: the `source` of every batch. */
  source: string;
  /** `ctx.id.toString()`: the `sourceId` of every batch (unique across classes and namespaces). */
  sourceId: string;
  history: HistoryEngine;
  schedule: {
    at(delayMs: number, method: string, payload: unknown, options: { key: string }): unknown;
    get(key: string): { status: string } | undefined;
    cancel(key: string): boolean;
  };
  /** The actor's own method, for `{ call }` targets. */
  method(name: string): ((batch: ForwardBatch) => unknown) | undefined;
}

/** The schedule key and method of a forward's delivery. */
export const DELIVER_METHOD = "_forwardDeliver";
const scheduleKey = (name: string) => `dosql:forward:${name}`;
const SUBSCRIBER_PREFIX = "forward:";

/** Every forward of one actor: started on each wake, driven by writes and the schedule. */
export class Forwarding {
  readonly #host: ForwardHost;
  readonly #specs: readonly ResolvedForward[];
  readonly #state: ForwardState;
  readonly #forwarders = new Map<string, Forwarder>();

  constructor(host: ForwardHost, specs: readonly ResolvedForward[]) {
    this.#host = host;
    this.#specs = specs;
    this.#state = new ForwardState(host.storage.sql);
  }

  /** On every wake, after history is installed: check the config against the schema and bindings, then catch up. */
  start(): void {
    const { history, schedule, storage } = this.#host;
    const captured = history.tracking.captured;
    const delivery = this.#deliveryHost();
    const columns = this.#specs.map((spec) => {
      checkTargetBinding(spec.to, delivery, (m) => this.#host.method(m) !== undefined);
      return exportedColumns(spec, captured);
    });
    const names = this.#specs.map((s) => s.name);
    const gone = new Set<string>();
    storage.transactionSync(() => {
      this.#state.create();
      for (const name of this.#state.dropOthers(names)) gone.add(name);
      // A forward that lost its state row (or a subscriber left without one) is forgotten too.
      for (const sub of history.subscribers())
        if (sub.id.startsWith(SUBSCRIBER_PREFIX) && !names.includes(sub.id.slice(SUBSCRIBER_PREFIX.length)))
          gone.add(sub.id.slice(SUBSCRIBER_PREFIX.length));
      for (const name of gone) history.unsubscribe(subscriberId(name));
      for (const spec of this.#specs) {
        this.#state.ensure(spec.name);
        history.subscribe(
          subscriberId(spec.name),
          spec.start === "start" ? { fromLsn: history.summary().floorLsn } : undefined,
        );
      }
    });
    // Its delivery task too: it would run a forward that is no more (FORWARD_NOT_FOUND, retried).
    for (const name of gone) schedule.cancel(scheduleKey(name));
    this.#specs.forEach((spec, i) => {
      this.#forwarders.set(spec.name, new Forwarder(spec, delivery, columns[i]));
    });
    history.writes.listen(() => {
      for (const forwarder of this.#forwarders.values()) forwarder.onWrite();
    });
    for (const forwarder of this.#forwarders.values()) forwarder.arrange();
  }

  /** The scheduled delivery of one forward. */
  deliver(name: unknown): Promise<void> {
    return this.#get(name).deliver();
  }

  /** Deliver now (every forward, or one) instead of at the next schedule; answers their status. */
  async flush(name?: unknown): Promise<ForwardStatus[]> {
    const list = name === undefined ? [...this.#forwarders.values()] : [this.#get(name)];
    for (const forwarder of list) await forwarder.deliver();
    return list.map((f) => this.#status(f.spec));
  }

  /** Take a parked forward back into service and deliver now. */
  async resume(name: unknown, options?: { skipGap?: boolean }): Promise<ForwardStatus> {
    const forwarder = this.#get(name);
    const row = this.#state.get(forwarder.spec.name);
    if (options?.skipGap === true && row.gap_destination !== null && row.gap_applied !== null) {
      // The operator accepts that the receiver never gets what the history no longer holds: it is
      // sent from the oldest change held, following what it applied.
      const { history, storage } = this.#host;
      const id = subscriberId(forwarder.spec.name);
      const floor = history.summary().floorLsn;
      storage.transactionSync(() => {
        this.#state.rewindSent(forwarder.spec.name, row.gap_destination as string, row.gap_applied as number);
        if (history.subscribe(id).acked > floor - 1) {
          history.unsubscribe(id);
          history.subscribe(id, { fromLsn: floor });
        }
      });
    }
    this.#state.resume(forwarder.spec.name);
    await forwarder.deliver();
    return this.#status(forwarder.spec);
  }

  status(): ForwardStatus[] {
    return this.#specs.map((spec) => this.#status(spec));
  }

  #get(name: unknown): Forwarder {
    const forwarder = typeof name === "string" ? this.#forwarders.get(name) : undefined;
    if (!forwarder)
      throw new ActorError(
        "FORWARD_NOT_FOUND",
        `no forward ${typeof name === "string" ? JSON.stringify(name) : `named by a ${typeof name}`}`,
        {
          forwards: [...this.#forwarders.keys()],
        },
      );
    return forwarder;
  }

  #status(spec: ResolvedForward): ForwardStatus {
    const row = this.#state.get(spec.name);
    const acked = this.#host.history.subscribe(subscriberId(spec.name)).acked;
    return {
      name: spec.name,
      target: targetLabel(spec.to),
      state: row.state,
      ackedLsn: acked,
      pending: Math.max(0, this.#host.history.lastLsn() - acked),
      delivered: { batches: row.batches, changes: row.changes },
      lastDeliveryAt: row.last_delivery_at,
      failures: row.failures,
      lastError: row.last_error,
      nextAttemptAt: row.next_attempt_at,
      parkedAt: row.parked_at,
      gap:
        row.gap_destination === null
          ? null
          : {
              destination: row.gap_destination,
              appliedLsn: row.gap_applied ?? 0,
              heldFromLsn: row.gap_floor ?? 0,
            },
    };
  }

  #deliveryHost(): DeliveryHost {
    const { history, schedule, storage } = this.#host;
    return {
      storage,
      state: this.#state,
      env: this.#host.env as Record<string, unknown>,
      source: this.#host.source,
      sourceId: this.#host.sourceId,
      call: async (method, batch) => {
        const fn = this.#host.method(method);
        if (!fn) throw new ActorError("INVALID_CONFIG", `forward: ${method} is not a method of this actor`);
        return await fn(batch);
      },
      changes: (options) => history.changes(options),
      acked: (id) => history.subscribe(id).acked,
      ack: (id, lsn) => {
        history.ack(id, lsn);
      },
      lastLsn: () => history.lastLsn(),
      floorLsn: () => history.summary().floorLsn,
      rewind: (id, lsn) => {
        history.unsubscribe(id);
        history.subscribe(id, { fromLsn: lsn + 1 });
      },
      later: (name, delayMs) => {
        schedule.at(delayMs, DELIVER_METHOD, { name }, { key: scheduleKey(name) });
      },
      isScheduled: (name) => {
        const task = schedule.get(scheduleKey(name));
        return task !== undefined && task.status !== "failed";
      },
      cancel: (name) => {
        schedule.cancel(scheduleKey(name));
      },
    };
  }
}
