import { describe, expect, it } from "vitest";
import type { WatchedPage } from "./browser";
import { useSession } from "./server";

const s = useSession(2);

const cells = (p: WatchedPage, table: string) =>
  p
    .locator(`${table} tbody tr`)
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));

describe("IoT building page in Chromium against wrangler dev", () => {
  it("a rule, then readings over its threshold: the alert arrives over the socket; chart and history fill", async () => {
    const p = await s.open(await s.context(), "/demos/iot"); // a new building

    // The rule: any CO₂ sensor over 1000 ppm is critical.
    await p.selectOption("#rule-severity", "critical");
    await p.click("#add-rule");
    await p.locator("#rules-table tbody tr").first().waitFor();
    expect((await cells(p, "#rules-table"))[0].slice(1, 4)).toEqual(["any co2", "> 1000", "critical"]);
    await p.waitForFunction(() => document.querySelector("#socket")?.textContent === "open");

    // An hour of ordinary readings: minute aggregates on the chart, no alert.
    await p.click("#backfill");
    await p.waitForFunction(
      () => Number(document.querySelector<HTMLElement>("#chart")?.dataset.points) >= 55,
    );
    expect(await p.textContent("#sent")).toContain("720 reading(s)");
    expect(await p.textContent("#sent")).toContain("0 alert(s) raised");
    expect(await p.locator("#chart canvas").count()).toBe(1);
    expect(await p.locator("#alerts-table tbody tr").count()).toBe(0);

    // A reading over the threshold: the alert row comes in over the socket (the page never polls alerts).
    await p.click("#spike");
    await p.locator('#alerts-table tbody tr[data-status="ACTIVE"]').waitFor({ timeout: 15_000 });
    const [alert] = await cells(p, "#alerts-table");
    expect(alert.slice(1, 6)).toEqual(["r-101", "1400", "1000", "critical", "ACTIVE"]);

    // Acknowledged by the dashboard: the socket brings the new status.
    await p.click("#alerts-table button");
    await p.locator('#alerts-table tbody tr[data-status="ACKNOWLEDGED"]').waitFor();

    // A second dashboard, the same building opened by its link: its rules, chart and open alert.
    const b = await p.textContent("#building");
    const other = await s.open(await s.context(), `/demos/iot?b=${b}`);
    await other.locator("#rules-table tbody tr").first().waitFor();
    await other.locator('#alerts-table tbody tr[data-status="ACKNOWLEDGED"]').waitFor();
    await other.waitForFunction(
      () => Number(document.querySelector<HTMLElement>("#chart")?.dataset.points) >= 55,
    );

    // History: six past days of hourly readings. They are in range but older than the alert, so
    // they resolve nothing; the live sensors' next reading does, and both dashboards hear it.
    await p.click("#past-week");
    await p.waitForFunction(() => document.querySelector("#sent")?.textContent?.startsWith("six past days"));
    expect(await p.locator('#alerts-table tbody tr[data-status="ACKNOWLEDGED"]').count()).toBe(1);
    await p.click("#live");
    for (const d of [p, other]) await d.locator('#alerts-table tbody tr[data-status="RESOLVED"]').waitFor();
    await p.click("#live"); // stopped
    await p.click("#history");
    await p.locator("#history-table tbody tr").nth(20).waitFor();
    // One row per sensor and UTC day (7 to 9 days); per sensor 144 past readings + the hour's 240
    // + the live ticks (one per sensor each) (+ the spike for r-101).
    const history = await cells(p, "#history-table");
    expect(new Set(history.map((r) => r[0])).size).toBeGreaterThanOrEqual(7);
    expect(history.length).toBeLessThanOrEqual(9 * 3);
    const perSensor = (s: string) => history.filter((r) => r[1] === s).reduce((n, r) => n + Number(r[5]), 0);
    const [r101, r102, r103] = ["r-101", "r-102", "r-103"].map(perSensor);
    expect(r102).toBeGreaterThanOrEqual(385);
    expect([r101, r103]).toEqual([r102 + 1, r102]);
    expect(p.problems).toEqual([]);
    expect(other.problems).toEqual([]);
  });
});
