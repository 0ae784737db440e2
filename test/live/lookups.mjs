// No storage from lookups, measured against a real `wrangler dev`: 1,000 GETs of unknown order and
// SKU names must leave the persisted state folder the same size (same files, same bytes).
//   node test/live/lookups.mjs         (uses port 8712 / inspector 9312, or LIVE_PORT / LIVE_INSPECTOR_PORT)
import { execSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ADMIN_TOKEN, api, startServer, userToken } from "./dev-server.mjs";

const N = Number(process.env.LOOKUPS ?? 1000);

/** Every file under `dir` with its size; SQLite's -wal/-shm companions come and go as objects idle. */
function folder(dir) {
  const sizes = {};
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else sizes[p.slice(dir.length)] = statSync(p).size;
    }
  };
  walk(dir);
  const databases = Object.keys(sizes).filter((f) => f.endsWith(".sqlite"));
  const bytes = Object.values(sizes).reduce((a, b) => a + b, 0);
  return { files: Object.keys(sizes).length, databases, bytes, sizes };
}

const dir = mkdtempSync(join(tmpdir(), "dosql-lookups-"));
const server = await startServer(dir);
let failed = false;
try {
  // Warm up: one order written (its checkout names a SKU never stocked, so it ends CANCELLED with
  // no schedule left), which creates the two directory objects. Nothing runs on an alarm afterwards,
  // so any change of the folder during the measurement would come from the lookups.
  const token = await userToken("warm-user");
  const warm = await api("POST", "/checkout", {
    token,
    body: { orderId: "warm-order", items: [{ sku: "never-stocked", quantity: 1, unitPrice: 1 }] },
  });
  if (warm.status !== 409) throw new Error(`warm-up checkout answered ${warm.status}`);
  // Let the warm-up's objects go idle (their -wal/-shm files are checkpointed away) before measuring.
  await new Promise((r) => setTimeout(r, 15_000));
  const before = folder(dir);
  const statuses = {};
  const paths = (i) => [
    `/orders/ghost-order-${i}`,
    `/inventory/ghost-sku-${i}/status`,
    `/inventory/ghost-sku-${i}/history`,
    `/inventory/ghost-sku-${i}/state-at?timestamp=1000`,
  ];
  let sent = 0;
  for (let i = 0; sent < N; i++) {
    const batch = paths(i).slice(0, N - sent);
    const answers = await Promise.all(batch.map((p) => api("GET", p, { token: ADMIN_TOKEN })));
    for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
    sent += batch.length;
  }
  await new Promise((r) => setTimeout(r, 15_000));
  const after = folder(dir);
  console.log(`GETs of unknown names: ${sent}, answers by status: ${JSON.stringify(statuses)}`);
  const show = (f) => `${f.databases.length} SQLite databases, ${f.files} files in all, ${f.bytes} bytes`;
  console.log(`persisted state folder before: ${show(before)}`);
  console.log(`persisted state folder after:  ${show(after)}`);
  const added = after.databases.filter((f) => !before.databases.includes(f));
  if (added.length) console.log(`new databases: ${added.length} (first: ${added.slice(0, 3).join(", ")})`);
  const changed = [...new Set([...Object.keys(before.sizes), ...Object.keys(after.sizes)])].filter(
    (f) => before.sizes[f] !== after.sizes[f],
  );
  for (const f of changed.slice(0, 10)) console.log(`changed: ${f} ${before.sizes[f]} -> ${after.sizes[f]}`);
  const du = (d) => execSync(`du -sb ${d}`).toString().split("\t")[0];
  console.log(`du -sb after: ${du(dir)}`);
  if (added.length || after.bytes > before.bytes || Object.keys(statuses).join() !== "404") {
    console.log("FAIL: lookups changed the persisted state or answered other than 404");
    failed = true;
  } else console.log("OK: the folder is the same size, every answer 404");
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
