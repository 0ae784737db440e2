// InventorySKU reserve ×N inside one actor call (history off, as shipped minus history) against the
// floor: the same statements on raw SQLite in Node (node:sqlite, one transaction, a savepoint per
// reserve). The ratio is what workerd, Durable Object storage and the framework cost together.
import { rawReserves } from "../baselines/raw-sqlite.mjs";
import { QUICK } from "../quick.mjs";

const N = QUICK ? 200 : 2000;

export default [
  {
    // The baseline runs in Node: no CPU ratio (bench/cpu.mjs reads workerd's CPU alone).
    cpu: false,
    name: `InventorySKU reserve ×${N} in one call (history off) ÷ raw node:sqlite (the same SQL: the one-UPDATE hold, reservation insert, log insert)`,
    subject: async (base, round) => {
      const res = await fetch(
        `${base}/bench/reserve/history-off/raw-floor-${round % 4}-${Date.now()}?n=${N}`,
        {
          method: "POST",
        },
      );
      if (!res.ok) throw new Error(`reserve: ${res.status} ${await res.text()}`);
    },
    baseline: async (_base, round) => {
      rawReserves(N, `raw-${round}`);
    },
  },
];
