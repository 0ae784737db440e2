// Every prebuilt actor kind of DESIGN.md §4 is in the fleet: an actor written through its own
// routes is listed by `GET /admin/fleet/:kind` (its report runs in the background after its wake).
import { describe, expect, it, vi } from "vitest";
import { FLEET_KINDS } from "../src/fleet/index";
import { ADMIN_TOKEN, SECURED } from "./auth-helpers";
import { connect, edit } from "./document-helpers";
import { caller, freshTenant, json } from "./tenant-helpers";

const dev = caller();
const admin = caller({ vars: SECURED, token: ADMIN_TOKEN });

async function expectListed(kind: string, name: string, className: string) {
  await vi.waitFor(
    async () => {
      const page = await json(admin("GET", `/admin/fleet/${kind}?limit=500`));
      const entry = page.actors.find((a: { name: string }) => a.name === name);
      expect(entry, `${kind}/${name}`).toMatchObject({ className, error: null });
      expect(entry.version).toMatch(/^\d{4}_/);
      expect(entry.bytes).toBeGreaterThan(0);
    },
    { timeout: 20_000, interval: 100 },
  );
}

describe("fleet kinds", () => {
  it("an actor of each kind, once written, is listed by /admin/fleet/:kind", async () => {
    const id = freshTenant("kinds");

    const tenant = `${id}-tenant`;
    expect((await dev("POST", `/tenants/${tenant}/users`, { email: "a@x.io", name: "A" })).status).toBe(201);

    const doc = `${id}-doc`;
    const client = await connect(doc, "alice");
    expect((await edit(client, { type: "insert", blockId: "b1", content: { text: "hi" } })).type).toBe("ack");
    client.close();

    // The region actors are named after their region: "us" (in the plain namespace).
    const res = await dev("POST", "/analytics/us/ingest", {
      sessionId: "s1",
      eventType: `${id}-view`,
      pageUrl: "https://shop.example/",
      timestamp: Date.now(),
    });
    expect(res.status).toBeLessThan(300);

    const b = `${id}-building`;
    const reading = {
      sensorId: "t-1",
      sensorType: "temperature",
      value: 20,
      unit: "C",
      timestamp: Date.now(),
    };
    expect((await dev("POST", `/buildings/${b}/ingest`, reading)).status).toBeLessThan(300);

    const sku = `${id}-sku`;
    expect((await dev("POST", `/inventory/${sku}/restock`, { quantity: 5 })).status).toBeLessThan(300);
    const order = `${id}-order`;
    const checkout = await dev("POST", "/checkout", {
      orderId: order,
      customerId: "cust-1",
      items: [{ sku, quantity: 1, unitPrice: 1000 }],
      shippingAddress: { line1: "1 Main St", city: "Lisbon", country: "PT" },
    });
    expect(checkout.status).toBe(201);

    const expected: Record<(typeof FLEET_KINDS)[number], [string, string]> = {
      tenants: [tenant, "TenantDB"],
      documents: [doc, "CollaborativeDocument"],
      analytics: ["us", "RegionalAnalytics"],
      buildings: [b, "BuildingTelemetry"],
      inventory: [sku, "InventorySKU"],
      orders: [order, "Order"],
    };
    // FLEET_KINDS is DESIGN.md §4's list, and every kind of it has a registered actor class.
    expect([...FLEET_KINDS].sort()).toEqual(Object.keys(expected).sort());
    for (const [kind, [name, className]] of Object.entries(expected))
      await expectListed(kind, name, className);

    // A registry only reaches members by their class: migrateAll wakes each kind's actors without error.
    for (const kind of FLEET_KINDS) {
      const migrated = await json(admin("POST", `/admin/fleet/${kind}/migrate`, { concurrency: 5 }));
      expect(migrated, kind).toMatchObject({ done: true, errors: [] });
    }
  });
});
