// The SKU socket through the coordinator with auth on: the same roles as the HTTP routes, per method.
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { InventorySKU } from "../actors/index";
import type { ErrorBody } from "../src/index";
import { ADMIN_TOKEN, idOf, objectIds, secured, unsignedToken, userToken } from "./auth-helpers";

let seq = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now()}-${seq++}`;
const call = secured();

type Frame = { id?: string; result?: unknown; error?: { code: string; message: string } };

/** Open `/inventory/:sku/ws` through the coordinator; `token` goes in `?token=` as a browser sends it. */
async function upgrade(sku: string, options: { token?: string; headers?: Record<string, string> } = {}) {
  const query = options.token === undefined ? "" : `?token=${encodeURIComponent(options.token)}`;
  return call("GET", `/inventory/${sku}/ws${query}`, {
    headers: { Upgrade: "websocket", ...options.headers },
  });
}

/** An accepted socket that answers `call(method, ...args)` with the frame of that id. */
async function socket(sku: string, options: Parameters<typeof upgrade>[1] = {}) {
  const res = await upgrade(sku, options);
  if (res.status !== 101) throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
  const ws = res.webSocket!;
  ws.accept();
  const frames: Frame[] = [];
  ws.addEventListener("message", (e: MessageEvent) => frames.push(JSON.parse(String(e.data))));
  let n = 0;
  return {
    close: () => ws.close(1000, "done"),
    call: (method: string, ...args: unknown[]): Promise<Frame> => {
      const id = `c${n++}`;
      ws.send(JSON.stringify({ id, method, args }));
      return vi.waitFor(
        () => {
          const frame = frames.find((f) => f.id === id);
          if (!frame) throw new Error(`no answer to ${method} yet`);
          return frame;
        },
        { timeout: 5_000, interval: 5 },
      );
    },
  };
}

/** Everything a refused socket call could change on the SKU. */
function skuState(sku: string) {
  return runInDurableObject(env.INVENTORY_SKU.getByName(sku), (a: InventorySKU) => ({
    status: a.status(),
    log: a.query("SELECT * FROM inventory_log ORDER BY id"),
    reservations: a.query("SELECT * FROM reservations ORDER BY id"),
  }));
}

/** Every admin method of the SKU socket, with arguments that would succeed for an admin. */
const adminCalls = (): [string, unknown][] => [
  ["reserve", { orderId: "ws-r", quantity: 1 }],
  ["reserveMany", { items: [{ orderId: "ws-m", quantity: 1 }] }],
  ["confirm", { orderId: "ws-r" }],
  ["release", { orderId: "ws-m" }],
  ["restock", { quantity: 5 }],
  ["auditLog", {}],
  ["stateAt", Date.now()],
];

describe("development mode (no AUTH_JWT_SECRET, AUTH_JWKS or ADMIN_TOKEN)", () => {
  // First in this file (its own isolate): nothing has put the server in development mode before.
  it("is open, sockets included, and says so once in the log", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const open = secured({});
      const sku = fresh("ws-dev");
      expect((await open("POST", `/inventory/${sku}/restock`, { body: { quantity: 3 } })).status).toBe(200);
      expect((await open("GET", `/inventory/${sku}/history`)).status).toBe(200);
      const res = await open("GET", `/inventory/${sku}/ws`, { headers: { Upgrade: "websocket" } });
      expect(res.status).toBe(101);
      const ws = res.webSocket!;
      ws.accept();
      const answer = new Promise<Frame>((resolve) =>
        ws.addEventListener("message", (e: MessageEvent) => resolve(JSON.parse(String(e.data)))),
      );
      ws.send(JSON.stringify({ id: "r", method: "reserve", args: [{ orderId: "dev-r", quantity: 1 }] }));
      expect((await answer).error).toBeUndefined();
      ws.close(1000, "done");
      const notes = warn.mock.calls.filter((args) => String(args[0]).includes("development mode"));
      expect(notes).toHaveLength(1);
    } finally {
      warn.mockRestore();
    }
  });
});

describe("the SKU socket through the coordinator (AUTH_JWT_SECRET and ADMIN_TOKEN set)", () => {
  it("a user token and no token may call status only; every admin method is FORBIDDEN and writes nothing", async () => {
    const sku = fresh("ws-auth");
    expect(
      (await call("POST", `/inventory/${sku}/restock`, { token: ADMIN_TOKEN, body: { quantity: 10 } }))
        .status,
    ).toBe(200);
    const before = await skuState(sku);
    const alice = await userToken("alice");
    for (const [who, options] of [
      ["user token", { token: alice }],
      ["user token in the Authorization header", { headers: { authorization: `Bearer ${alice}` } }],
      ["no token", {}],
      // A client cannot vouch for itself: the caller header it sends is replaced.
      [
        "no token, a forged caller header",
        { headers: { "x-dosql-caller": JSON.stringify({ role: "admin" }) } },
      ],
    ] as const) {
      const ws = await socket(sku, options);
      const status = await ws.call("status");
      expect(status.error, who).toBeUndefined();
      expect(status.result).toMatchObject({ available: 10, reserved: 0 });
      for (const [method, args] of adminCalls()) {
        const answer = await ws.call(method, args);
        expect(answer.error?.code, `${who}: ${method}`).toBe("FORBIDDEN");
      }
      ws.close();
    }
    expect(await skuState(sku)).toEqual(before);
  });

  it("the admin token in ?token= may call the admin methods", async () => {
    const sku = fresh("ws-admin");
    await call("POST", `/inventory/${sku}/restock`, { token: ADMIN_TOKEN, body: { quantity: 10 } });
    const ws = await socket(sku, { token: ADMIN_TOKEN });
    const answers: Record<string, Frame> = {};
    for (const [method, args] of adminCalls()) answers[method] = await ws.call(method, args);
    ws.close();
    for (const [method, answer] of Object.entries(answers))
      expect(answer.error, `${method}: ${JSON.stringify(answer.error)}`).toBeUndefined();
    // 10 + 5 restocked, ws-r confirmed (sold), ws-m released.
    const state = await skuState(sku);
    expect(state.status).toMatchObject({ available: 14, reserved: 0 });
    expect(state.reservations.map((r) => [r.id, r.status])).toEqual([
      ["ws-m", "RELEASED"],
      ["ws-r", "CONFIRMED"],
    ]);
  });

  it("a token that does not verify is refused before the upgrade (401), writing and creating nothing", async () => {
    const sku = fresh("ws-bad");
    await call("POST", `/inventory/${sku}/restock`, { token: ADMIN_TOKEN, body: { quantity: 10 } });
    const unknown = fresh("ws-unknown");
    const before = await skuState(sku);
    const skus = await objectIds(env.INVENTORY_SKU);
    const bad = {
      garbage: "not.a.token",
      empty: "",
      expired: await userToken("alice", { exp: Math.floor(Date.now() / 1000) - 120 }),
      "alg none": unsignedToken("alice"),
      "wrong key": await userToken("alice", { secret: "another-secret-0123456789abcdef01" }),
      "admin token, one character off": `${ADMIN_TOKEN.slice(0, -1)}x`,
    };
    for (const [what, token] of Object.entries(bad))
      for (const name of [sku, unknown]) {
        const res = await upgrade(name, { token });
        expect(res.status, `${what} on ${name === sku ? "a stocked" : "an unknown"} SKU`).toBe(401);
        expect(res.webSocket).toBeNull();
        expect(((await res.json()) as ErrorBody).error.code).toBe("UNAUTHORIZED");
      }
    const header = await upgrade(sku, { headers: { authorization: "Bearer not.a.token" } });
    expect(header.status).toBe(401);
    expect(await skuState(sku)).toEqual(before);
    expect(await objectIds(env.INVENTORY_SKU)).toEqual(skus);
    expect(skus).not.toContain(idOf(env.INVENTORY_SKU, unknown));
  });
});
