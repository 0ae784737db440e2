import { describe, expect, it } from "vitest";
import { dataSet } from "./browser";
import { useSession } from "./server";

const s = useSession(4); // pages 0, documents 1, iot 2, analytics 3, tenants 4

const open = async (path: string) => s.open(await s.context(), path);

describe("tenants page in Chromium against wrangler dev", () => {
  it("two tenants, isolated; the page says the server is open; the fleet lists both with a schema version", async () => {
    const p = await open("/demos/tenants");
    await dataSet(p, "#mode", "mode");
    expect(await p.getByTestId("mode").getAttribute("data-mode")).toBe("development");
    expect(await p.textContent("#mode")).toContain("development mode");

    await p.click("#create");
    await p.waitForFunction(() => document.querySelector("#create-result")?.classList.contains("ok"));
    expect(await p.locator("#tasks-a").getAttribute("data-count")).toBe("3");
    expect(await p.locator("#tasks-b").getAttribute("data-count")).toBe("1");
    const titles = async (id: string) =>
      p.locator(`#${id} tbody td:nth-child(2)`).evaluateAll((tds) => tds.map((td) => td.textContent));
    expect(await titles("tasks-b")).toEqual(["Ship the quarterly report"]);
    expect(await titles("tasks-a")).not.toContain("Ship the quarterly report");

    await p.click("#isolation");
    await dataSet(p, "#isolation-result", "code");
    expect(await p.getByTestId("isolation-result").getAttribute("data-code")).toBe("TASK_NOT_FOUND");

    // The fleet: reports are sent in the background after a tenant's first wake, so ask until both are in.
    const [a, b] = await Promise.all(["#name-a", "#name-b"].map((s) => p.textContent(s)));
    for (let i = 0; ; i++) {
      await p.click("#fleet");
      await dataSet(p, "#fleet-result", "found");
      if ((await p.getByTestId("fleet-result").getAttribute("data-found")) === "2" || i === 20) break;
      await p.waitForTimeout(250);
    }
    expect(await p.getByTestId("fleet-result").getAttribute("data-found")).toBe("2");
    const fleet = await p
      .locator("#fleet-table tbody tr")
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    for (const name of [a, b]) {
      const row = fleet.find((r) => r[0] === `${name} (this page)`);
      expect(row?.[1], `${name}'s schema version`).toMatch(/^\d{4}_/);
    }
    // The one expected failure: the cross-tenant read's 404.
    expect(p.problems.filter((m) => !/status of 404/.test(m))).toEqual([]);
  });
});
