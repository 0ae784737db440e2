import { describe, expect, it } from "vitest";
import { codeOf, fresh, inActor, runsOf, sleep, waitFor } from "./schedule-helpers";

/** The latest time the Durable Object alarm takes: `setAlarm` refuses anything later. */
const LAST_ALARM = Date.UTC(2200, 0, 1) - 1;

describe("schedule audit", () => {
  it("a due time the alarm cannot be set to is refused (INVALID_SCHEDULE), not stored unarmed", async () => {
    const stub = fresh("far");
    const codes = await inActor(stub, (actor) => {
      const s = actor.schedule;
      return {
        dateIn2200: codeOf(() => s.at(new Date(LAST_ALARM + 1), "record", "2200")),
        lastValidDate: codeOf(() => s.at(new Date(8.64e15), "record", "max date")),
        delayPast2200: codeOf(() => s.at(LAST_ALARM + 1 - Date.now(), "record", "delay")),
        hugeInterval: codeOf(() => s.every(Number.MAX_SAFE_INTEGER, "tick")),
        intervalPast2200: codeOf(() => s.every(LAST_ALARM - Date.now() + 60_000, "tick")),
      };
    });
    expect(codes).toEqual({
      dateIn2200: "INVALID_SCHEDULE",
      lastValidDate: "INVALID_SCHEDULE",
      delayPast2200: "INVALID_SCHEDULE",
      hugeInterval: "INVALID_SCHEDULE",
      intervalPast2200: "INVALID_SCHEDULE",
    });
    expect(await inActor(stub, (actor) => actor.schedule.list())).toEqual([]);
    // The last moment the alarm takes is accepted, and the alarm is really set to it.
    const edge = await inActor(stub, (actor) => actor.schedule.at(new Date(LAST_ALARM), "record", "edge"));
    expect(edge.nextRunAt).toBe(LAST_ALARM);
    expect(await inActor(stub, (_actor, state) => state.storage.getAlarm())).toBe(LAST_ALARM);
  });

  it("a task cancelled by an earlier task of the same batch does not run", async () => {
    const stub = fresh("batch-cancel");
    await inActor(stub, (actor) => {
      const past = Date.now() - 1_000;
      // All three due together, so one alarm claims them as one batch, in this order.
      actor.schedule.at(new Date(past), "cancelSelf", "victim");
      actor.schedule.at(new Date(past + 1), "record", "cancelled", { key: "victim" });
      actor.schedule.at(new Date(past + 2), "record", "kept");
    });
    await waitFor(async () => expect((await runsOf(stub, "record")).map((r) => r.payload)).toContain("kept"));
    await sleep(200);
    expect((await runsOf(stub, "cancelSelf")).map((r) => r.payload)).toEqual(["victim"]);
    expect((await runsOf(stub, "record")).map((r) => r.payload)).toEqual(["kept"]);
    expect(await inActor(stub, (actor) => actor.schedule.list())).toEqual([]);
  });
});
