import { describe, expect, it } from "vitest";
import { building, DAY, freshName, HOUR, reading } from "./telemetry-helpers";

describe("BuildingTelemetry.historical", () => {
  it("gives one row per sensor and UTC day, whatever the readings' times within the day", async () => {
    const b = building(freshName("hist-day"));
    const day = Math.floor((Date.now() - 3 * DAY) / DAY) * DAY; // a UTC midnight three days ago
    await b.ingestBatch([
      reading("d-1", day + HOUR, 10),
      reading("d-1", day + 5 * HOUR + 17, 20),
      reading("d-1", day + 23 * HOUR, 30),
      reading("d-1", day + DAY + HOUR, 40),
    ]);
    const { data } = await b.historical({ start: day - DAY, end: day + 2 * DAY });
    expect(data).toEqual([
      { sensorId: "d-1", day: new Date(day).toISOString().slice(0, 10), avg: 20, min: 10, max: 30, count: 3 },
      {
        sensorId: "d-1",
        day: new Date(day + DAY).toISOString().slice(0, 10),
        avg: 40,
        min: 40,
        max: 40,
        count: 1,
      },
    ]);
  });
});
