// The member's background report retries when the registry refuses it (a registry that really
// throws, test/fixtures/fleet-retry.ts), and writes its marker only once a report got through, so
// a member whose every attempt failed reports again on its next wake.
import { env, evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { REPORT_ATTEMPTS } from "../src/fleet/part";
import { actorStub } from "../src/index";
import type { RefusingRegistry, RetryTenant } from "./fixtures/fleet-retry";
import { tenantTags } from "./fixtures/fleet-tenant";
import { freshTenant } from "./tenant-helpers";

const bindings = env as unknown as {
  REFUSING_FLEET: DurableObjectNamespace<RefusingRegistry>;
  RETRY_TENANT: DurableObjectNamespace<RetryTenant>;
};
const registry = () => bindings.REFUSING_FLEET.getByName("retry");
const listed = async (name: string) =>
  (await registry().list({ limit: 500 })).actors.some((a) => a.name === name);
const marker = (name: string) =>
  runInDurableObject(bindings.RETRY_TENANT.getByName(name), (_a: unknown, state: DurableObjectState) => {
    const table = state.storage.sql
      .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_dosql_fleet'")
      .toArray();
    return table.length === 0 ? null : state.storage.sql.exec("SELECT version FROM _dosql_fleet").toArray();
  });

async function createTenant(name: string) {
  await actorStub(bindings.RETRY_TENANT, name).createUser({ email: "a@x.io", name: "A" });
}

describe("fleet report retry", () => {
  it("a report refused twice is retried in the background and lands on the third attempt", async () => {
    const name = freshTenant("retry");
    await registry().refuseReports(2);
    await createTenant(name);
    await vi.waitFor(async () => expect(await listed(name)).toBe(true), { timeout: 10_000, interval: 50 });
    expect(await registry().reportCalls()).toBe(3);
    expect(await marker(name)).toEqual([{ version: tenantTags.shipped }]);
  });

  it("when every attempt is refused the marker stays unwritten and the next wake reports again", async () => {
    const name = freshTenant("retry-all");
    await registry().refuseReports(REPORT_ATTEMPTS);
    await createTenant(name);
    // 4 attempts with 50 + 250 + 1000 ms of backoff between them.
    await vi.waitFor(async () => expect(await registry().reportCalls()).toBe(REPORT_ATTEMPTS), {
      timeout: 10_000,
      interval: 50,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await registry().reportCalls()).toBe(REPORT_ATTEMPTS); // no fifth attempt in this wake
    expect(await listed(name)).toBe(false);
    expect(await marker(name)).toBeNull();

    // The next wake (a new instance) finds no marker and reports; the registry now accepts.
    await evictDurableObject(bindings.RETRY_TENANT.getByName(name));
    await actorStub(bindings.RETRY_TENANT, name).listUsers();
    await vi.waitFor(async () => expect(await listed(name)).toBe(true), { timeout: 10_000, interval: 50 });
    expect(await registry().reportCalls()).toBe(REPORT_ATTEMPTS + 1);
    expect(await marker(name)).toEqual([{ version: tenantTags.shipped }]);
  });
});
