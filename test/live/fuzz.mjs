// Hostile requests over every route against a real `wrangler dev` (auth on), mixed with real
// customers' checkouts, cancels and payments. Pass: no answer 500, every answer JSON (but the demo
// page), and the invariants hold afterwards (figures add up; every order agrees with its SKUs;
// nothing written by a refused request; no database for a name that was only looked up).
//   node test/live/fuzz.mjs            FUZZ_REQUESTS=1500 FUZZ_SEED=7 FUZZ_CONCURRENCY=12
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN_TOKEN, BASE, startServer, userToken } from "./dev-server.mjs";

const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 1500);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 12);
let seed = Number(process.env.FUZZ_SEED ?? 7);
const random = () => {
  // mulberry32: reproducible runs from FUZZ_SEED
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (list) => list[Math.floor(random() * list.length)];
const b64url = (s) => Buffer.from(s).toString("base64url");

const dir = mkdtempSync(join(tmpdir(), "dosql-fuzz-"));
const server = await startServer(dir);
let failed = false;
const fail = (msg) => {
  failed = true;
  console.log(`FAIL: ${msg}`);
};

try {
  const run = Date.now().toString(36);
  const skus = Array.from({ length: 8 }, (_, i) => `f-${run}-sku${i}`);
  const users = ["ann", "ben", "cid", "dee"];
  const tokens = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await userToken(u)])));
  const now = Math.floor(Date.now() / 1000);
  const hostileTokens = {
    none: undefined,
    garbage: "garbage.garbage.garbage",
    expired: await userToken("ann", { exp: now - 3600 }),
    "alg none": `${b64url('{"alg":"none"}')}.${b64url(JSON.stringify({ sub: "ann", exp: now + 3600 }))}.`,
    "wrong key": await userToken("ann", { secret: "not-the-secret-0123456789abcdefgh" }),
    huge: "x".repeat(12_000),
    "admin-ish": `${ADMIN_TOKEN}x`,
  };

  const send = async (method, path, { token, body, type, rawHeader } = {}) => {
    const headers = {};
    if (rawHeader !== undefined) headers.authorization = rawHeader;
    else if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (type) headers["content-type"] = type;
    const res = await fetch(`${BASE}${path}`, { method, headers, body });
    const text = await res.text();
    return { status: res.status, text, type: res.headers.get("content-type") ?? "" };
  };
  const json = (value) => JSON.stringify(value);

  for (const sku of skus) {
    const r = await send("POST", `/inventory/${sku}/restock`, {
      token: ADMIN_TOKEN,
      body: json({ quantity: 40 }),
      type: "application/json",
    });
    if (r.status !== 200) throw new Error(`restock: ${r.status} ${r.text}`);
  }

  const orders = []; // { id, owner }
  const adminRefs = []; // reservations an admin made with made-up ids
  let orderSeq = 0;
  const nextOrder = () => `f-${run}-o${orderSeq++}`;
  const realOrder = () => (orders.length ? pick(orders).id : `f-${run}-o0`);
  const hostileNames = [
    "..",
    "%2E%2E",
    ".",
    "a".repeat(129),
    "semi;colon",
    "caf%C3%A9",
    "%00",
    "x%2Fy",
    "sp%20ace",
    "-",
    "_",
  ];
  const unknownName = () => `ghost-${run}-${Math.floor(random() * 1e6)}`;
  const skuName = () => (random() < 0.6 ? pick(skus) : random() < 0.5 ? unknownName() : pick(hostileNames));
  const orderName = () =>
    random() < 0.6 ? realOrder() : random() < 0.5 ? unknownName() : pick(hostileNames);
  const deep = (n) => "[".repeat(n) + "]".repeat(n);
  const bodies = (valid) => [
    json(valid),
    json(valid),
    "{",
    "",
    "null",
    "[]",
    '"text"',
    json({ ...valid, __proto__: { admin: true }, constructor: { prototype: { admin: true } } }),
    deep(5000),
    json({ ...valid, quantity: 1e308 }),
    json({ ...valid, quantity: -5 }),
    json({ ...valid, quantity: 1.5 }),
    json({ ...valid, quantity: "3" }),
    json({ ...valid, ttlMinutes: 10080 }),
    json({ ...valid, orderId: ".." }),
    json({ ...valid, amount: Number.MAX_SAFE_INTEGER + 2 }),
    json({ ...valid, customerId: "mallory", actor: "ceo" }),
    json({
      ...valid,
      items: Array.from({ length: 101 }, (_, i) => ({ sku: `s${i}`, quantity: 1, unitPrice: 1 })),
    }),
    json({
      ...valid,
      items: [
        { sku: pick(skus), quantity: 1, unitPrice: 1 },
        { sku: pick(skus), quantity: 1, unitPrice: 1 },
      ],
    }),
    json({ big: "x".repeat(1024 * 1024 + 10) }),
    "\u0000\uFFFF\uD800",
  ];
  const types = [
    "application/json",
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    undefined,
    "APPLICATION/JSON",
  ];

  /** One request: a route (every route and some non-API paths), a caller and a body, mostly hostile. */
  function nextRequest() {
    const roll = random();
    const hostileToken = () => pick(Object.values(hostileTokens));
    const anyUser = () => pick(users);
    const callerToken = () => {
      const r = random();
      if (r < 0.35) return hostileToken();
      if (r < 0.8) return tokens[anyUser()];
      return ADMIN_TOKEN;
    };
    if (roll < 0.18) {
      // A real customer's checkout (sometimes a sold-out cart), or a hostile one.
      const owner = anyUser();
      const id = nextOrder();
      const items = skus
        .filter(() => random() < 0.4)
        .map((sku) => ({ sku, quantity: 1 + Math.floor(random() * 3), unitPrice: 100 }));
      const valid = {
        orderId: id,
        items: items.length ? items : [{ sku: skus[0], quantity: 1, unitPrice: 100 }],
      };
      const hostile = random() < 0.4;
      return {
        method: "POST",
        path: "/checkout",
        token: hostile ? callerToken() : tokens[owner],
        body: hostile ? pick(bodies(valid)) : json(valid),
        type: hostile ? pick(types) : "application/json",
        onOk: (r) => {
          if (r.status === 201 || r.status === 409 || r.status === 200)
            orders.push({ id, owner, skus: valid.items.map((i) => i.sku) });
        },
      };
    }
    if (roll < 0.3 && orders.length) {
      // Well-formed attacks on real orders: a customer (the owner or another) or a forged token
      // goes for the reservations, the payment, the status log or someone else's order.
      const target = pick(orders);
      const token = random() < 0.7 ? tokens[anyUser()] : hostileToken();
      const sku = pick(target.skus);
      const attack = pick([
        { method: "POST", path: `/inventory/${sku}/release`, body: { orderId: target.id } },
        { method: "POST", path: `/inventory/${sku}/confirm`, body: { orderId: target.id } },
        {
          method: "POST",
          path: `/inventory/${sku}/reserve`,
          body: { orderId: target.id, quantity: 40, ttlMinutes: 10080 },
        },
        {
          method: "POST",
          path: `/orders/${target.id}/pay`,
          body: { paymentId: "pi-fake", provider: "stripe", amount: 100 },
        },
        {
          method: "POST",
          path: `/orders/${target.id}/status`,
          body: { status: "CANCELLED", actor: "support" },
        },
        { method: "POST", path: `/orders/${target.id}/cancel`, body: {} },
        { method: "GET", path: `/orders/${target.id}` },
        { method: "GET", path: `/inventory/${sku}/history` },
      ]);
      return {
        method: attack.method,
        path: attack.path,
        token,
        body: attack.method === "GET" ? undefined : json(attack.body),
        type: attack.method === "GET" ? undefined : "application/json",
      };
    }
    const sku = skuName();
    const order = orderName();
    const token = callerToken();
    const isAdmin = token === ADMIN_TOKEN;
    // Admins touch reservations they made themselves; everybody else goes after real orders'.
    const ref = isAdmin
      ? adminRefs.length && random() < 0.7
        ? pick(adminRefs)
        : `adm-${run}-${Math.floor(random() * 50)}`
      : realOrder();
    const ts = pick([
      String(Date.now() - 1000),
      String(Date.now() + 86_400_000),
      "abc",
      "-1",
      "99999999999999999",
      new Date().toISOString(),
      "2999-01-01T00:00:00Z",
      "",
    ]);
    const routes = [
      { method: "GET", path: "/health" },
      { method: "GET", path: `/inventory/${sku}/status` },
      { method: "GET", path: `/orders/${order}` },
      { method: "POST", path: `/orders/${order}/cancel`, valid: { reason: "fuzz" } },
      {
        method: "POST",
        path: `/inventory/${sku}/reserve`,
        valid: { orderId: ref, quantity: 1 + Math.floor(random() * 3) },
        admin: ref,
      },
      {
        method: "POST",
        path: `/inventory/${sku}/reserve-many`,
        valid: { items: [{ orderId: ref, quantity: 1 }] },
        admin: ref,
      },
      { method: "POST", path: `/inventory/${sku}/confirm`, valid: { orderId: ref } },
      { method: "POST", path: `/inventory/${sku}/release`, valid: { orderId: ref, reason: "fuzz" } },
      {
        method: "POST",
        path: `/inventory/${skus.includes(sku) ? sku : pick(skus)}/restock`,
        valid: { quantity: 1 + Math.floor(random() * 5) },
      },
      {
        method: "GET",
        path: `/inventory/${sku}/history?limit=${pick(["5", "-1", "100000", "x"])}&operation=${pick(["RESERVE", "DROP", ""])}`,
      },
      { method: "GET", path: `/inventory/${sku}/state-at?timestamp=${encodeURIComponent(ts)}` },
      {
        method: "POST",
        path: `/orders/${order}/pay`,
        valid: {
          paymentId: `pi-${Math.floor(random() * 1e6)}`,
          provider: "stripe",
          amount: Math.floor(random() * 3000),
        },
      },
      {
        method: "POST",
        path: `/orders/${order}/status`,
        valid: { status: pick(["PROCESSING", "SHIPPED", "PAID", "LOST", "REFUNDED"]) },
      },
      {
        method: pick(["POST", "PUT", "DELETE", "PATCH"]),
        path: pick(["/", "/index.html", "/nope", "/orders", "/inventory", "/admin/fleet/orders"]),
      },
      { method: "GET", path: pick(["/", "/nope", "/favicon.ico", "/orders", "/inventory/x"]) },
      { method: pick(["PUT", "DELETE", "PATCH", "OPTIONS"]), path: `/orders/${order}` },
    ];
    const route = pick(routes);
    const hasBody = route.method !== "GET" && route.method !== "HEAD" && route.method !== "OPTIONS";
    const request = {
      method: route.method,
      path: route.path,
      token,
      body: hasBody
        ? route.valid && random() < 0.5
          ? json(route.valid)
          : pick(bodies(route.valid ?? {}))
        : undefined,
      type: hasBody ? pick(types) : undefined,
    };
    if (random() < 0.05)
      request.rawHeader = pick(["Basic YWRtaW46YWRtaW4=", "Bearer", `bearer ${ADMIN_TOKEN} extra`, ""]);
    if (isAdmin && route.admin && route.path.includes("/reserve"))
      request.onOk = (r) => {
        if (r.status === 200) adminRefs.push(route.admin);
      };
    return request;
  }

  const statuses = {};
  const fiveHundreds = [];
  const notJson = [];
  let sent = 0;
  const worker = async () => {
    while (sent < TOTAL) {
      sent++;
      const request = nextRequest();
      let r;
      try {
        r = await send(request.method, request.path, request);
      } catch (err) {
        r = { status: `fetch failed: ${err.message}`, text: "", type: "" };
      }
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (typeof r.status !== "number" || r.status >= 500)
        fiveHundreds.push(
          `${request.method} ${request.path.slice(0, 80)} → ${r.status} ${r.text.slice(0, 160)}`,
        );
      const isPage = request.method === "GET" && r.type.startsWith("text/html");
      if (!isPage && r.text && !r.type.includes("application/json"))
        notJson.push(`${request.method} ${request.path} → ${r.status} ${r.type}`);
      request.onOk?.(r);
      // Now and then a customer cancels or an admin pays a real order, concurrently with the rest.
      if (orders.length && random() < 0.06) {
        const o = pick(orders);
        const view = await send("GET", `/orders/${o.id}`, { token: ADMIN_TOKEN });
        if (view.status === 200) {
          const total = JSON.parse(view.text).order.total;
          const action =
            random() < 0.5
              ? send("POST", `/orders/${o.id}/cancel`, {
                  token: tokens[o.owner],
                  body: "{}",
                  type: "application/json",
                })
              : send("POST", `/orders/${o.id}/pay`, {
                  token: ADMIN_TOKEN,
                  body: json({ paymentId: `pay-${o.id}`, provider: "stripe", amount: total }),
                  type: "application/json",
                });
          const a = await action;
          statuses[a.status] = (statuses[a.status] ?? 0) + 1;
          if (a.status >= 500)
            fiveHundreds.push(`owner action on ${o.id} → ${a.status} ${a.text.slice(0, 160)}`);
        }
      }
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  console.log(
    `${sent} requests (+ owner actions) in ${((Date.now() - t0) / 1000).toFixed(1)} s; answers by status: ${JSON.stringify(statuses)}`,
  );
  const count500 = fiveHundreds.filter((line) => / → 500 /.test(line)).length;
  console.log(`answers of 500: ${count500}; other 5xx or failures: ${fiveHundreds.length - count500}`);
  for (const line of fiveHundreds.slice(0, 10)) console.log(`  ${line}`);
  if (count500) fail(`${count500} answers of 500`);
  if (notJson.length) fail(`${notJson.length} answers not JSON, e.g. ${notJson.slice(0, 3).join("; ")}`);

  // ---- invariants ----
  const admin = (path) =>
    send("GET", path, { token: ADMIN_TOKEN }).then((r) => ({ ...r, json: JSON.parse(r.text) }));
  const views = {};
  for (const { id } of orders) {
    const r = await admin(`/orders/${id}`);
    if (r.status === 200) views[id] = r.json.order;
  }
  let breaks = 0;
  const brk = (msg) => {
    breaks++;
    if (breaks <= 10) console.log(`  invariant: ${msg}`);
  };
  const knownRefs = new Set([...Object.keys(views), ...adminRefs]);
  for (const sku of skus) {
    const status = (await admin(`/inventory/${sku}/status`)).json;
    if (status.available + status.reserved + status.sold !== status.restocked)
      brk(`${sku} figures do not add up`);
    const log = [];
    for (let before; ; ) {
      const page = (await admin(`/inventory/${sku}/history?limit=1000${before ? `&beforeId=${before}` : ""}`))
        .json.history;
      log.push(...page);
      if (page.length < 1000) break;
      before = page.at(-1).id;
    }
    // Each reference's last operation at this SKU.
    const last = {};
    let reservedFromLog = 0;
    for (const e of [...log].reverse()) {
      if (e.operation === "RESTOCK") continue;
      last[e.referenceId] = e.operation;
      if (!knownRefs.has(e.referenceId))
        brk(`${sku} holds a change for ${e.referenceId}, which no accepted request made`);
    }
    for (const [ref, op] of Object.entries(last))
      if (op === "RESERVE")
        reservedFromLog += log.find((e) => e.referenceId === ref && e.operation === "RESERVE").quantity;
    if (reservedFromLog !== status.reserved)
      brk(`${sku}: reserved ${status.reserved}, log says ${reservedFromLog}`);
    for (const [id, order] of Object.entries(views)) {
      const line = order.lines.find((l) => l.sku === sku);
      const atSku = last[id];
      if (!line) {
        if (atSku) brk(`${sku} has ${atSku} for ${id}, which has no such line`);
        continue;
      }
      const expected = {
        RESERVED: ["RESERVE"],
        CONFIRMED: ["CONFIRM"],
        RELEASED: ["RELEASE", "EXPIRE", undefined],
        FAILED: [undefined, "RELEASE", "EXPIRE"],
        PENDING: [undefined],
      }[line.reservationStatus];
      if (!expected.includes(atSku))
        brk(`${id} line ${sku} is ${line.reservationStatus} but the SKU's last word is ${atSku}`);
      if (order.status === "RESERVED" && line.reservationStatus !== "RESERVED")
        brk(`${id} RESERVED with a ${line.reservationStatus} line`);
    }
  }
  for (const [id, order] of Object.entries(views)) {
    if (!users.includes(order.customerId)) brk(`${id} belongs to ${order.customerId}: taken from a body`);
    if (order.status === "PENDING") brk(`${id} still PENDING`);
  }
  // No database for a name that was only looked up: objects on disk = actors that were written.
  const onDisk = (cls) =>
    readdirSync(join(dir, `v3/do/dosql-actors-${cls}`)).filter(
      (f) => f.endsWith(".sqlite") && f !== "metadata.sqlite",
    ).length;
  const skuFiles = onDisk("InventorySKU");
  const orderFiles = onDisk("Order");
  console.log(
    `databases on disk: ${skuFiles} SKUs (${skus.length} stocked), ${orderFiles} orders (${Object.keys(views).length} written)`,
  );
  if (skuFiles !== skus.length) brk(`${skuFiles - skus.length} SKU databases for names never stocked`);
  if (orderFiles !== Object.keys(views).length)
    brk(`${orderFiles - Object.keys(views).length} order databases that hold no order`);
  console.log(
    `orders: ${JSON.stringify(countBy(Object.values(views).map((o) => o.status)))}; invariant breaks: ${breaks}`,
  );
  if (breaks) fail(`${breaks} invariant breaks`);
  if (!failed) console.log("OK: no 500, every answer JSON, every invariant holds");
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

function countBy(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
