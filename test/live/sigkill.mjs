// SIGKILL in the middle of 20 checkouts of 50 lines against a real `wrangler dev`, then restart:
// every PENDING order must resolve by its own schedule, with no stock leaked
// (Σ reserved across SKUs = Σ over RESERVED orders, per SKU).
//   node test/live/sigkill.mjs      (port 8712 / inspector 9312, or LIVE_PORT / LIVE_INSPECTOR_PORT)
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ADMIN_TOKEN, api, startServer, userToken } from "./dev-server.mjs";

const SKUS = 50;
const ORDERS = 20;
const STOCK = Number(process.env.SIGKILL_STOCK ?? 16);
const KILL_AT_PENDING = Number(process.env.KILL_AT_PENDING ?? 3);
const RESOLVE_WAIT_MS = Number(process.env.RESOLVE_WAIT_MS ?? 45_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Read every Order database straight from disk (nothing is woken): id → status. */
function ordersOnDisk(dir, readOnly = false) {
  const folder = join(dir, "v3/do/dosql-actors-Order");
  const found = {};
  for (const file of readdirSync(folder)) {
    if (!file.endsWith(".sqlite") || file === "metadata.sqlite") continue;
    let db;
    try {
      db = new DatabaseSync(join(folder, file), { readOnly });
    } catch {
      continue;
    }
    try {
      for (const row of db.prepare("SELECT id, status FROM order_header").all()) found[row.id] = row.status;
    } catch (err) {
      // an object created but never written (no tables yet)
      if (process.env.DEBUG) console.log(file, String(err));
    } finally {
      db?.close();
    }
  }
  return found;
}

const dir = mkdtempSync(join(tmpdir(), "dosql-sigkill-"));
let server = await startServer(dir);
let failed = false;
const fail = (msg) => {
  failed = true;
  console.log(`FAIL: ${msg}`);
};
try {
  const run = Date.now().toString(36);
  const skus = Array.from({ length: SKUS }, (_, i) => `k-${run}-${i}`);
  await Promise.all(
    skus.map(async (sku) => {
      const res = await api("POST", `/inventory/${sku}/restock`, {
        token: ADMIN_TOKEN,
        body: { quantity: STOCK },
      });
      if (res.status !== 200) throw new Error(`restock ${sku}: ${res.status} ${res.text}`);
    }),
  );
  const orderIds = Array.from({ length: ORDERS }, (_, i) => `o-${run}-${i}`);
  const tokens = await Promise.all(orderIds.map((_, i) => userToken(`buyer-${i}`)));
  const answers = orderIds.map((orderId, i) =>
    api("POST", "/checkout", {
      token: tokens[i],
      body: { orderId, items: skus.map((sku) => ({ sku, quantity: 1, unitPrice: 100 })) },
    }).then(
      (r) => r.status,
      () => "connection lost",
    ),
  );
  // Kill once some orders are PENDING on disk (read-only peeks; nothing is woken by them).
  const started = Date.now();
  const pendingNow = () => {
    try {
      return Object.values(ordersOnDisk(dir, true)).filter((status) => status === "PENDING").length;
    } catch {
      return 0;
    }
  };
  while (pendingNow() < KILL_AT_PENDING && Date.now() - started < 60_000) await sleep(50);
  await server.stop("SIGKILL");
  console.log(`SIGKILL ${Date.now() - started} ms after the checkouts began`);
  const statuses = await Promise.all(answers);
  console.log(`answers before the kill: ${JSON.stringify(count(statuses))}`);
  const atKill = ordersOnDisk(dir);
  console.log(`orders on disk after SIGKILL: ${JSON.stringify(count(Object.values(atKill)))}`);
  const pendingAtKill = Object.keys(atKill).filter((id) => atKill[id] === "PENDING");
  if (pendingAtKill.length === 0)
    console.log("note: no order was PENDING at the kill (try a smaller KILL_AT_PENDING)");

  server = await startServer(dir);
  // Nothing is called: only the orders' own alarms may move them.
  await sleep(RESOLVE_WAIT_MS);
  await server.stop("SIGTERM");
  const afterWait = ordersOnDisk(dir);
  console.log(
    `orders on disk ${RESOLVE_WAIT_MS / 1000} s after the restart, untouched: ${JSON.stringify(count(Object.values(afterWait)))}`,
  );
  const stillPending = Object.keys(afterWait).filter((id) => afterWait[id] === "PENDING");
  if (stillPending.length) fail(`${stillPending.length} orders still PENDING: ${stillPending.join(", ")}`);

  // The invariant, read through the coordinator: per SKU, reserved = the RESERVED orders holding it.
  server = await startServer(dir);
  const views = {};
  for (const id of orderIds) {
    const res = await api("GET", `/orders/${id}`, { token: ADMIN_TOKEN });
    if (res.status === 200) views[id] = res.json.order;
    else if (res.status !== 404) fail(`GET /orders/${id} answered ${res.status}`);
  }
  const reservedOrders = Object.values(views).filter((o) => o.status === "RESERVED");
  let sumSkus = 0;
  let sumOrders = 0;
  for (const sku of skus) {
    const status = (await api("GET", `/inventory/${sku}/status`)).json;
    const held = reservedOrders.filter((o) =>
      o.lines.some((l) => l.sku === sku && l.reservationStatus === "RESERVED"),
    ).length;
    sumSkus += status.reserved;
    sumOrders += held;
    if (status.reserved !== held) fail(`${sku}: reserved ${status.reserved}, RESERVED orders hold ${held}`);
    if (status.available + status.reserved + status.sold !== status.restocked)
      fail(`${sku}: figures do not add up`);
  }
  console.log(
    `orders: ${JSON.stringify(count(Object.values(views).map((o) => o.status)))}; Σ reserved across SKUs = ${sumSkus}, Σ over RESERVED orders = ${sumOrders}`,
  );
  const resumedBySchedule = pendingAtKill.filter((id) =>
    views[id]?.statusLog.some(
      (e) =>
        e.fromStatus === "PENDING" &&
        e.timestamp > new Date(Date.now() - RESOLVE_WAIT_MS - 120_000).toISOString(),
    ),
  );
  console.log(
    `PENDING at the kill: ${pendingAtKill.length}; resolved after the restart: ${resumedBySchedule.length}`,
  );
  if (!failed) console.log("OK: no order left PENDING, no stock leaked");
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

function count(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
