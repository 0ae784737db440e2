// CPU time of the workerd processes under one `wrangler dev` (Linux only): the sum of every
// thread's run time from /proc/<pid>/task/<tid>/schedstat (its first field, in nanoseconds). Read
// before and after a call, it is the CPU the call cost the runtime (the Worker, the Durable
// Objects, SQLite and whatever the call leaves running while it is read), whichever other
// processes share the machine: far steadier than wall time when the cores are contended.
import { readdirSync, readFileSync } from "node:fs";

const read = (path) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};
const parentOf = (pid) => {
  const stat = read(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1];
};

/** The workerd processes descending from `root` (the spawned npx/wrangler process). */
function workerdPids(root) {
  const pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  const parents = new Map(pids.map((p) => [p, parentOf(p)]));
  const under = (p) => {
    for (let q = p, hops = 0; q && q !== "0" && q !== "1" && hops < 20; q = parents.get(q), hops++)
      if (q === String(root)) return true;
    return false;
  };
  return pids.filter((p) => read(`/proc/${p}/cmdline`).includes("workerd") && under(p));
}

/**
 * A reader of the CPU milliseconds the workerd processes under `root` have used so far, or
 * undefined where /proc is not there. The processes are looked up again when one is gone
 * (wrangler restarts workerd on a reload).
 */
export function workerdCpu(root) {
  if (!read("/proc/self/stat")) return undefined;
  let pids = workerdPids(root);
  return () => {
    if (pids.length === 0 || pids.some((p) => !read(`/proc/${p}/stat`))) pids = workerdPids(root);
    let ns = 0;
    for (const p of pids) {
      let tasks = [];
      try {
        tasks = readdirSync(`/proc/${p}/task`);
      } catch {}
      for (const t of tasks) ns += Number(read(`/proc/${p}/task/${t}/schedstat`).split(" ")[0]) || 0;
    }
    return ns / 1e6;
  };
}
