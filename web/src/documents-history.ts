// The document's past: its operation log (GET /documents/:doc/history) in a table, a slider that
// previews the blocks after any change (the log's before/after rows undone newest first, in the
// page), restore to that moment (POST /restore) and branch and merge.
import { toBlock } from "../../actors/collaborative-document/blocks";
import { api } from "./api";
import { inReadingOrder, textOf } from "./documents-model";
import type { Block, BlockRow, HistoryEntry } from "./documents-types";
import { byId, fillTable, say } from "./dom";

let doc = "";
/** Oldest first; `now` is the blocks the log was read with. */
let log: HistoryEntry[] = [];
let now: Block[] = [];

const path = (rest: string) => `/documents/${encodeURIComponent(doc)}/${rest}`;
const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour12: false });

export async function loadHistory(name: string) {
  doc = name;
  const [{ history }, { blocks }] = await Promise.all([
    api<{ history: HistoryEntry[] }>(path("history?limit=1000")),
    api<{ blocks: Block[] }>(path("blocks")),
  ]);
  log = history.reverse();
  now = blocks;
  fillTable(
    byId<HTMLTableElement>("history-table"),
    ["#", "time", "user", "change", "block"],
    [...log]
      .reverse()
      .map((e) => [
        e.id,
        clock(e.timestamp),
        e.userId,
        e.opType ? `${e.kind} ${e.opType}` : e.kind,
        e.blockId,
      ]),
  );
  const slider = byId<HTMLInputElement>("when");
  slider.max = String(log.length);
  slider.value = String(log.length);
  slider.disabled = log.length === 0;
  preview();
}

/** The blocks after the slider's change: undo the log's later changes, newest first. */
export function preview() {
  const k = Number(byId<HTMLInputElement>("when").value);
  const blocks = new Map(now.map((b) => [b.id, b]));
  let exact = true;
  for (const e of log.slice(k).reverse()) {
    if (e.kind === "restore" || e.kind === "merge") exact = false; // their rows are in history, not the log
    for (const r of (e.after as BlockRow[] | null) ?? []) blocks.delete(r.id);
    for (const r of (e.before as BlockRow[] | null) ?? []) blocks.set(r.id, toBlock(r));
  }
  const entry = log[k - 1];
  byId("when-label").textContent =
    k === log.length
      ? "now"
      : k === 0
        ? "before the first change"
        : `${clock(entry.timestamp)} (after #${entry.id})`;
  const host = byId("preview");
  host.replaceChildren();
  for (const { block, depth } of inReadingOrder([...blocks.values()])) {
    const p = host.appendChild(document.createElement("p"));
    p.textContent = textOf(block) || "(empty)";
    p.style.marginLeft = `${depth * 1.2}rem`;
  }
  if (!exact)
    host.appendChild(document.createElement("p")).textContent =
      "(a restore or merge came later: approximate)";
  byId<HTMLButtonElement>("restore").disabled = k === log.length;
}

/** The moment between the slider's change and the next one, so restore lands after the first. */
export async function restore() {
  const k = Number(byId<HTMLInputElement>("when").value);
  if (k >= log.length) return;
  const next = log[k].timestamp;
  const at = k === 0 ? next - 1 : Math.floor((log[k - 1].timestamp + next) / 2);
  const r = await api<{ changes: number; lsn: number }>(path("restore"), { timestamp: at });
  say(byId("branch-result"), `restored to ${clock(at)}: ${r.changes} change(s), LSN ${r.lsn}`, true);
}

export async function branch(name: string): Promise<string> {
  await api(path("branch"), { name });
  return name;
}

export async function merge(name: string, onConflict: string) {
  const r = await api<{ changes: number; conflicts: unknown[] }>(path("merge"), { branch: name, onConflict });
  return `merged ${name}: ${r.changes} change(s), ${r.conflicts.length} conflict(s)`;
}
