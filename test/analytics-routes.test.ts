// The analytics routes: regions and residency (us, eu in the EU jurisdiction, apac, auto), roles,
// rate limit per IP, typed errors, and reads of a region never written create nothing.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { RegionalAnalytics } from "../actors/index";
import { regionNamespace, regionOf } from "../actors/regional-analytics/regions";
import { event, fresh, open, post } from "./analytics-helpers";
import { ADMIN_TOKEN, objectIds, secured } from "./auth-helpers";

const json = async (res: Response) => ({
  status: res.status,
  body: (await res.json()) as Record<string, any>,
});

describe("analytics routes", () => {
  it("maps :region to us, eu, apac; auto follows request.cf.continent; anything else is 404", () => {
    // A request as the edge gives it: `cf` is read only on a real Request, so a plain object stands in.
    const req = (continent?: string) => (continent ? { cf: { continent } } : {}) as unknown as Request;
    expect(regionOf("us", req())).toBe("us");
    expect(regionOf("eu", req())).toBe("eu");
    expect(regionOf("apac", req())).toBe("apac");
    expect(regionOf("auto", req("EU"))).toBe("eu");
    expect(regionOf("auto", req("AF"))).toBe("eu");
    expect(regionOf("auto", req("AS"))).toBe("apac");
    expect(regionOf("auto", req("OC"))).toBe("apac");
    expect(regionOf("auto", req("NA"))).toBe("us");
    expect(regionOf("auto", req())).toBe("us");
    for (const bad of ["global", "US", "mars", ""]) expect(() => regionOf(bad, req())).toThrow(/region/);
  });

  it("an empty User-Agent or cf-connecting-ip header is no value, not a refused event", async () => {
    const type = fresh("empty-headers");
    const res = await json(
      await post("/analytics/us/ingest", event({ eventType: type }), {
        "cf-connecting-ip": "",
        "user-agent": "",
      }),
    );
    expect(res).toEqual({ status: 200, body: { region: "us", accepted: 1, rejected: [] } });
    const us = regionNamespace(env.REGIONAL_ANALYTICS, "us").getByName("us");
    const raw = await runInDurableObject(us, (a: RegionalAnalytics) =>
      a.query("SELECT ip_address, user_agent FROM raw_events WHERE event_type = ?", [type]),
    );
    expect(raw).toEqual([{ ip_address: null, user_agent: null }]);
  });

  it("ingest and reads over HTTP; eu lives in the EU jurisdiction namespace", async () => {
    const type = fresh("http");
    const res = await json(
      await post(
        "/analytics/eu/ingest",
        [event({ eventType: type, userId: "u" }), event({ eventType: type, sessionId: "s2" })],
        {
          "cf-connecting-ip": "192.0.2.10",
          "user-agent": "TestAgent/1",
        },
      ),
    );
    expect(res).toEqual({ status: 200, body: { region: "eu", accepted: 2, rejected: [] } });
    const q = await json(await open(`/analytics/eu/query?range=hour&event_type=${type}`));
    expect(q.body.metrics).toEqual([{ eventType: type, totalEvents: 2, uniqueSessions: 2, uniqueUsers: 1 }]);
    const rt = await json(await open("/analytics/eu/realtime"));
    expect(rt.status).toBe(200);
    expect(rt.body.recentMetrics.some((m: { eventType: string }) => m.eventType === type)).toBe(true);
    // The EU actor is the jurisdiction's object where the runtime has jurisdictions; local workerd
    // refuses `jurisdiction()` ("not implemented in workerd"), so here it is the plain namespace's.
    const eu = regionNamespace(env.REGIONAL_ANALYTICS, "eu").getByName("eu");
    expect(() => env.REGIONAL_ANALYTICS.jurisdiction("eu")).toThrow(/not implemented in workerd/);
    const raw = await runInDurableObject(eu, (a: RegionalAnalytics) =>
      a.query<{ ip_address: string; user_agent: string }>(
        "SELECT ip_address, user_agent FROM raw_events WHERE event_type = ?",
        [type],
      ),
    );
    expect(raw).toEqual([
      { ip_address: "192.0.2.10", user_agent: "TestAgent/1" },
      { ip_address: "192.0.2.10", user_agent: "TestAgent/1" },
    ]);
    // The IP and agent came from the request.
    // Bad input: typed 400s, never a 500.
    const bad = await json(
      await post("/analytics/eu/ingest", [event({ eventType: type }), { sessionId: "x" }]),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("VALIDATION_FAILED");
    expect(bad.body.error.details.errors.map((e: { index: number }) => e.index)).toEqual([1]);
    expect((await json(await open("/analytics/eu/query?range=year"))).status).toBe(400);
    expect((await json(await open("/analytics/eu/historical?start=2026-01-02&end=2026-01-01"))).status).toBe(
      400,
    );
    expect((await json(await open("/analytics/mars/query"))).body.error.code).toBe("REGION_NOT_FOUND");
    expect((await json(await open("/analytics/global/metrics?from=2026-02-01&to=2026-01-01"))).status).toBe(
      400,
    );
    expect((await json(await open("/analytics/global/metrics?from=yesterday"))).status).toBe(400);
    expect(
      (
        await json(
          await open("/analytics/eu/ingest", {
            method: "POST",
            body: "{}",
            headers: { "content-type": "text/plain" },
          }),
        )
      ).status,
    ).toBe(415);
  });

  it("reads of a region never written answer empty figures and create no storage", async () => {
    // apac is written by no test in this file.
    for (const path of [
      "/analytics/apac/query",
      "/analytics/apac/realtime",
      "/analytics/apac/historical?start=2026-01-01&end=2026-01-31",
    ]) {
      const res = await json(await open(path));
      expect(res.status, path).toBe(200);
      expect(res.body.region).toBe("apac");
    }
    expect((await json(await open("/analytics/apac/query"))).body.totals).toEqual({
      totalEvents: 0,
      uniqueSessions: 0,
      uniqueUsers: 0,
    });
    expect((await json(await post("/admin/analytics/apac/sync", {}))).status).toBe(404);
    expect(await objectIds(env.REGIONAL_ANALYTICS)).not.toContain(
      env.REGIONAL_ANALYTICS.idFromName("apac").toString(),
    );
    // No region has synced yet in this file: the global columns are none, and no global actor is made.
    expect(await json(await open("/analytics/global/columns"))).toEqual({
      status: 200,
      body: { tables: [] },
    });
    expect(await objectIds(env.GLOBAL_ANALYTICS)).not.toContain(
      env.GLOBAL_ANALYTICS.idFromName("global").toString(),
    );
  });

  it("the global actor's stored columns: region, day, event type, counts, no PII column", async () => {
    const type = fresh("columns");
    await post(
      "/analytics/us/ingest",
      event({ eventType: type, userId: "u-columns", ipAddress: "192.0.2.1" }),
    );
    expect((await post("/admin/analytics/us/sync", {})).status).toBe(200);
    const res = await json(await open("/analytics/global/columns"));
    expect(res).toEqual({
      status: 200,
      body: {
        tables: [
          {
            name: "regional_rollups",
            columns: [
              "region",
              "date",
              "event_type",
              "total_events",
              "unique_sessions",
              "unique_users",
              "source_lsn",
              "received_at",
            ],
          },
        ],
      },
    });
  });

  it("roles: ingest and reads are public, sync is admin", async () => {
    const call = secured();
    expect(
      (await call("POST", "/analytics/us/ingest", { body: event({ eventType: fresh("roles") }) })).status,
    ).toBe(200);
    expect((await call("GET", "/analytics/us/query")).status).toBe(200);
    expect((await call("GET", "/analytics/global/metrics")).status).toBe(200);
    expect((await call("GET", "/analytics/global/columns")).status).toBe(200);
    expect((await call("POST", "/admin/analytics/us/sync", { body: {} })).status).toBe(401);
    expect((await call("POST", "/admin/analytics/us/sync", { body: {}, token: "wrong" })).status).toBe(401);
    expect((await call("POST", "/admin/analytics/us/sync", { body: {}, token: ADMIN_TOKEN })).status).toBe(
      200,
    );
  });

  it("ingest is rate limited per client IP (ANALYTICS_INGEST_LIMIT)", async () => {
    const ip = "198.51.100.77";
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) {
      const res = await post("/analytics/us/ingest", event({ eventType: "limited" }), {
        "cf-connecting-ip": ip,
      });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get("retry-after")).toBeTruthy();
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
      } else await res.body?.cancel();
    }
    expect(statuses.filter((s) => s === 200).length).toBe(30);
    expect(statuses.slice(30)).toEqual([429, 429]);
    // Another address is not limited by this one.
    expect(
      (
        await post("/analytics/us/ingest", event({ eventType: "limited" }), {
          "cf-connecting-ip": "198.51.100.78",
        })
      ).status,
    ).toBe(200);
  });
});
