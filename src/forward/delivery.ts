import { ActorError } from "../errors";
import type { Change, ChangesPage } from "../history/feed";
import { project } from "./project";
import { type ForwardRow, type ForwardState, subscriberId } from "./state";
import { destinations, MAX_BATCH_BYTES, type TargetHost } from "./targets";
import type { ForwardChange, ResolvedForward } from "./types";

/** What one forward's delivery loop needs from the actor. */
export interface DeliveryHost extends TargetHost {
  storage: DurableObjectStorage;
  state: ForwardState;
  changes(options: { fromLsn: number; tables: readonly string[]; limit: number }): ChangesPage;
  acked(id: string): number;
  ack(id: string, lsn: number): void;
  lastLsn(): number;
  /** The oldest LSN the history still holds. */
  floorLsn(): number;
  /** Move the forward's acknowledged LSN back to `lsn` (its changes after it must still be held). */
  rewind(id: string, lsn: number): void;
  /** Run delivery of this forward (the schedule key `dosql:forward:<name>`) after `delayMs`. */
  later(name: string, delayMs: number): void;
  /** Whether a delivery of this forward is already scheduled or running. */
  isScheduled(name: string): boolean;
  cancel(name: string): void;
}

/** Most batches one delivery run sends before it yields to the next scheduled run. */
const BATCHES_PER_RUN = 50;

/**
 * The delivery loop of one forward: read the changes after its acknowledged LSN, build a batch of
 * the declared columns, hand it to the target, and only then acknowledge it. At least once: a
 * crash between the target accepting and the acknowledgement sends the batch again, which the
 * receiver's `applyOnce` recognises. One run at a time per forward.
 */
export class Forwarder {
  readonly spec: ResolvedForward;
  readonly #host: DeliveryHost;
  readonly #columns: ReadonlyMap<string, readonly string[]>;
  readonly #id: string;
  #running: Promise<void> | undefined;
  #again = false;
  /** A write was seen and a delivery is being arranged (saves a schedule lookup per write). */
  #armed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Destinations rewound in this run (a second gap in one run is a failure, not a loop). */
  #rewound = new Set<string>();

  constructor(spec: ResolvedForward, host: DeliveryHost, columns: ReadonlyMap<string, readonly string[]>) {
    this.spec = spec;
    this.#host = host;
    this.#columns = columns;
    this.#id = subscriberId(spec.name);
  }

  /** After a write: make sure a delivery runs within `maxWaitMs` (deferred: this runs inside the commit). */
  onWrite(): void {
    // A delivery timer already pending will send this write too (and reschedule if more comes).
    if (this.#armed || this.#timer) return;
    this.#armed = true;
    queueMicrotask(() => {
      this.#armed = false;
      this.arrange();
    });
  }

  /**
   * Arrange a delivery when there is something to send (on wake, after writes): the scheduled task
   * is the durable promise (it survives eviction); a timer in memory is the fast path, since an
   * alarm is slower to fire than a timer. Whichever runs second finds nothing left to send.
   */
  arrange(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    const row = this.#promise();
    // While failing, only the schedule retries (it keeps the backoff).
    if (row && row.failures === 0 && !this.#timer)
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.deliver().catch((err) => console.error(`forward ${this.spec.name}: delivery failed`, err));
      }, this.spec.maxWaitMs);
  }

  /**
   * The durable promise of a delivery while something waits (not parked): the scheduled task, kept
   * through eviction and crashes. Answers the forward's row then, undefined otherwise.
   */
  #promise(): ForwardRow | undefined {
    const row = this.#host.state.get(this.spec.name);
    if (row.state === "parked" || this.#host.acked(this.#id) >= this.#host.lastLsn()) return undefined;
    if (!this.#host.isScheduled(this.spec.name)) this.#host.later(this.spec.name, this.spec.maxWaitMs);
    return row;
  }

  /** One delivery run (the schedule calls it; so do `flushForward` and `resumeForward`). */
  deliver(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<void> {
    // A run that is cut short (eviction, a crash, a deploy) leaves the rest to the schedule: also
    // when it was not started by it (flushForward, resumeForward, the timer).
    this.#promise();
    this.#rewound.clear();
    do {
      this.#again = false;
      if (this.#host.state.get(this.spec.name).state === "parked") return;
      let sent = 0;
      let more = true;
      try {
        while (more && sent < BATCHES_PER_RUN) {
          more = await this.#step();
          sent++;
        }
      } catch (err) {
        if (err instanceof ReceiverGap) this.#parkGap(err);
        else this.#failed(err);
        return;
      }
      if (more) {
        this.#host.later(this.spec.name, 1);
        return;
      }
    } while (this.#again);
    if (this.#host.acked(this.#id) < this.#host.lastLsn())
      this.#host.later(this.spec.name, this.spec.maxWaitMs);
  }

  /** Send one batch; true when more changes are waiting. */
  async #step(): Promise<boolean> {
    const { spec } = this;
    const from = this.#host.acked(this.#id) + 1;
    const page = this.#host.changes({ fromLsn: from, tables: spec.tables, limit: spec.size });
    const limit = "queue" in spec.to ? MAX_BATCH_BYTES.queue : MAX_BATCH_BYTES.other;
    const changes: ForwardChange[] = [];
    let to = page.nextLsn - 1;
    let bytes = 0;
    for (const change of page.changes) {
      const out = this.#export(change);
      if (!out) continue;
      const size = approximateBytes(out);
      if (bytes + size > limit) {
        if (changes.length === 0)
          throw new ActorError(
            "FORWARD_TOO_LARGE",
            `change ${change.lsn} is ${size} bytes, more than one ${"queue" in spec.to ? "queue message" : "batch"} holds`,
          );
        to = changes[changes.length - 1].lsn;
        break;
      }
      bytes += size;
      changes.push(out);
    }
    if (to < from) return false;
    const now = Date.now();
    if (changes.length > 0) {
      for (const destination of destinations(spec.to, this.#host, changes)) {
        const after = this.#host.state.sentTo(spec.name, destination.id);
        if (after >= to) continue; // accepted already, before a crash lost the acknowledgement
        const batch = {
          source: this.#host.source,
          sourceId: this.#host.sourceId,
          forward: spec.name,
          epoch: this.#host.state.epoch(),
          after,
          from,
          to,
          changes: destination.changes.filter((c) => c.lsn > after),
        };
        try {
          await within(
            destination.send(batch),
            spec.timeoutMs,
            `${destination.id} did not accept batch ${from}-${to}`,
          );
        } catch (err) {
          if (this.#receiverBehind(err, destination.id, after)) return true;
          throw err;
        }
        this.#host.state.markSent(spec.name, destination.id, to);
      }
    }
    this.#host.storage.transactionSync(() => {
      this.#host.ack(this.#id, to);
      if (changes.length > 0) this.#host.state.delivered(spec.name, changes.length, now);
    });
    return to < page.lastLsn;
  }

  /**
   * A destination that answered FORWARD_GAP with less applied than it had accepted (restored from
   * an old backup, or its record lost): when the history still holds the changes after what it
   * applied, rewind that destination and the acknowledged LSN to it and send again (true; the
   * other destinations skip what they accepted); when it does not, park (ReceiverGap). Once a
   * run: a receiver that answers a gap again after its rewind fails the attempt as any error does.
   */
  #receiverBehind(err: unknown, destination: string, after: number): boolean {
    const known = ActorError.from(err);
    const applied = known?.code === "FORWARD_GAP" ? known.details?.applied : undefined;
    if (typeof applied !== "number" || !Number.isSafeInteger(applied) || applied < 0 || applied >= after)
      return false;
    if (this.#rewound.has(destination)) return false;
    const floor = this.#host.floorLsn();
    if (applied + 1 < floor) throw new ReceiverGap(destination, applied, floor, known as ActorError);
    this.#rewound.add(destination);
    this.#host.storage.transactionSync(() => {
      this.#host.state.rewindSent(this.spec.name, destination, applied);
      if (this.#host.acked(this.#id) > applied) this.#host.rewind(this.#id, applied);
    });
    console.warn(
      `forward ${this.spec.name}: ${destination} has applied only ${applied} of ${after}; sending again from ${applied + 1}`,
    );
    return true;
  }

  /** Parked at once on a receiver gap the history cannot fill (retrying cannot help). */
  #parkGap(gap: ReceiverGap): void {
    const message = describe(gap.cause);
    const text = `${message} (the history holds from LSN ${gap.floor}: changes ${gap.applied + 1}-${gap.floor - 1} are gone for ${gap.destination}; resumeForward(name, { skipGap: true }) goes on without them)`;
    this.#host.state.parkGap(this.spec.name, text, gap.destination, gap.applied, gap.floor, Date.now());
    console.error(`forward ${this.spec.name} parked: ${text}`);
    this.#host.cancel(this.spec.name);
  }

  #export(change: Change): ForwardChange | null {
    const columns = this.#columns.get(change.table);
    if (!columns) return null;
    if (this.spec.where && !this.spec.where(change)) return null;
    return project(change, columns);
  }

  /** A failed attempt: back off exponentially, or park after `retry.attempts` in a row. */
  #failed(err: unknown): void {
    const { spec } = this;
    const now = Date.now();
    const failures = this.#host.state.get(spec.name).failures + 1;
    const message = describe(err);
    const park = failures >= spec.attempts;
    const delay = Math.min(spec.maxBackoffMs, spec.backoffMs * 2 ** (failures - 1));
    this.#host.state.failed(spec.name, message, park ? null : now + delay, now);
    if (park) {
      console.error(`forward ${spec.name} parked after ${failures} failed deliveries: ${message}`);
      this.#host.cancel(spec.name);
    } else this.#host.later(spec.name, delay);
  }
}

/** A receiver has applied less than the history still holds after it. */
class ReceiverGap extends Error {
  constructor(
    readonly destination: string,
    readonly applied: number,
    readonly floor: number,
    override readonly cause: ActorError,
  ) {
    super(cause.message);
  }
}

/**
 * A target's answer, or FORWARD_TIMEOUT after `ms`: a target that never answers must not hold the
 * forward (every later run would wait on it). The attempt may still land; applyOnce skips it then.
 */
async function within(sending: Promise<unknown>, ms: number, what: string): Promise<void> {
  let stop = () => {};
  const late = new Promise<never>((_, reject) => {
    const timer = setTimeout(() => reject(new ActorError("FORWARD_TIMEOUT", `${what} within ${ms} ms`)), ms);
    stop = () => clearTimeout(timer);
  });
  try {
    await Promise.race([sending, late]);
  } finally {
    stop();
  }
}

/** A character beyond Latin-1 makes v8 (a queue message's encoding) store its whole string at 2 bytes a character. */
const WIDE = /[\u0100-\uffff]/;

/**
 * Rough size of a change as a message: its JSON length, plus the length again of every string (and
 * column name) v8 stores two bytes a character; bytes count twice, as hex would.
 */
function approximateBytes(change: ForwardChange): number {
  let wide = 0;
  const json = JSON.stringify(change, (k, v) => {
    if (WIDE.test(k)) wide += k.length; // a column name is a string of the message too
    if (v instanceof Uint8Array) return "x".repeat(v.length * 2);
    if (typeof v === "string" && WIDE.test(v)) wide += v.length;
    return v;
  });
  return json.length + wide;
}

function describe(err: unknown): string {
  const known = ActorError.from(err);
  const text = known
    ? `${known.code}: ${known.description}`
    : err instanceof Error
      ? `${err.name}: ${err.message}`
      : String(err);
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}
