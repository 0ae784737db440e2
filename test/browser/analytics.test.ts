import { describe, expect, it } from "vitest";
import { dataSet } from "./browser";
import { useSession } from "./server";

const s = useSession(3); // pages 0, documents 1, iot 2, analytics 3, tenants 4

const open = async (path: string) => s.open(await s.context(), path);

describe("analytics page in Chromium against wrangler dev", () => {
  it("events stream to three regions, the realtime panel follows, global matches after a sync, and stores no PII column", async () => {
    const p = await open("/demos/analytics");
    await p.locator("#burst-size").fill("150");
    await p.click("#burst");
    await p.waitForFunction(() => document.querySelector<HTMLElement>("#sent")?.dataset.total === "150");
    // Realtime: every region has active sessions and this run's minute buckets.
    for (const r of ["us", "eu", "apac"])
      expect(Number(await p.textContent(`#rt-${r}`)), r).toBeGreaterThan(0);
    expect(await p.locator("#rt-table tbody tr").count()).toBeGreaterThan(0);

    await p.click("#sync");
    await dataSet(p, "#compare-result", "matches");
    expect(await p.getByTestId("compare-result").getAttribute("data-matches")).toBe("3");
    const rows = await p
      .locator("#compare-table tbody tr")
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    expect(rows.map((r) => r[0])).toEqual(["us", "eu", "apac"]);
    expect(rows.map((r) => Number(r[1]))).toEqual([50, 50, 50]);
    for (const r of rows) {
      expect(r[2], `${r[0]} regional = sent`).toBe(r[1]);
      expect(r[4], `${r[0]} global = regional`).toBe(r[2]);
      expect(r[5]).toBe(r[3]);
    }

    // The global table's columns: none of them PII.
    await p.click("#columns");
    await dataSet(p, "#columns-result", "pii");
    expect(await p.getByTestId("columns-result").getAttribute("data-pii")).toBe("0");
    const columns = await p
      .locator("#columns-table tbody tr")
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    expect(columns.map((c) => `${c[0]}.${c[1]}`)).toEqual(
      [
        "region",
        "date",
        "event_type",
        "total_events",
        "unique_sessions",
        "unique_users",
        "source_lsn",
        "received_at",
      ].map((c) => `regional_rollups.${c}`),
    );
    expect(columns.every((c) => c[2] === "no")).toBe(true);
    expect(p.problems).toEqual([]);
  });
});
