// The analytics page's read panels: realtime per region, regional vs global after a sync, and
// the global actor's stored columns checked for PII.

import { ofThisRun, REGIONS, type Region, sent } from "./analytics-stream";
import { api } from "./api";
import { byId, fillTable, say } from "./dom";

interface Figures {
  totalEvents: number;
  uniqueSessions: number;
  uniqueUsers: number;
}
interface Realtime {
  activeSessions: number;
  recentMetrics: {
    minute: string;
    eventType: string;
    pagePath: string;
    eventCount: number;
    uniqueSessions: number;
  }[];
}
interface RegionalQuery {
  metrics: (Figures & { eventType: string })[];
}
interface GlobalMetrics {
  days: { date: string; eventType: string; regions: Record<string, Figures> }[];
}

/** The columns a region keeps that identify or track a person: none may reach the global actor. */
export const PII_COLUMNS = [
  "user_id",
  "user_hash",
  "session_id",
  "ip_address",
  "user_agent",
  "page_url",
  "page_path",
  "referrer",
  "event_data",
];

let asked = 0;
let shown = 0;

/**
 * Each region's realtime figures; an answer older than one already shown is dropped. (Not "older
 * than the last one asked for": a refresh the periodic timer starts meanwhile would then drop the
 * burst's own, and the panel would lag the events the page says were accepted.)
 */
export async function refreshRealtime(): Promise<void> {
  const mine = ++asked;
  const all = await Promise.all(
    REGIONS.map(async (r) => ({ r, rt: await api<Realtime>(`/analytics/${r}/realtime`) })),
  );
  if (mine < shown) return;
  shown = mine;
  const rows: (string | number)[][] = [];
  for (const { r, rt } of all) {
    byId(`rt-${r}`).textContent = String(rt.activeSessions);
    for (const m of rt.recentMetrics.filter((x) => ofThisRun(x.eventType)))
      rows.push([
        r,
        m.minute.slice(11, 16),
        m.eventType.split(".")[0] ?? "",
        m.pagePath,
        m.eventCount,
        m.uniqueSessions,
      ]);
  }
  rows.sort((a, b) => String(b[1]).localeCompare(String(a[1])) || Number(b[4]) - Number(a[4]));
  fillTable(byId("rt-table"), ["region", "minute", "event", "path", "events", "sessions"], rows.slice(0, 12));
}

const zero = (): Figures => ({ totalEvents: 0, uniqueSessions: 0, uniqueUsers: 0 });
const plus = (a: Figures, b: Figures) => {
  a.totalEvents += b.totalEvents;
  a.uniqueSessions += b.uniqueSessions;
  a.uniqueUsers += b.uniqueUsers;
};

/** POST each region's sync (admin; open in development mode), then compare. */
export async function syncAll(): Promise<void> {
  for (const r of REGIONS.filter((x) => sent[x] > 0)) await api(`/admin/analytics/${r}/sync`, {});
  await compare();
}

/** This run's figures per region as the region counts them and as the global actor holds them. */
export async function compare(): Promise<void> {
  const today = new Date().toISOString().slice(0, 10);
  const [regional, global] = await Promise.all([
    Promise.all(REGIONS.map((r) => api<RegionalQuery>(`/analytics/${r}/query?range=day`))),
    api<GlobalMetrics>(`/analytics/global/metrics?from=${today}&to=${today}`),
  ]);
  let matches = 0;
  const rows = REGIONS.map((r: Region, i) => {
    const here = zero();
    for (const m of regional[i]?.metrics ?? []) if (ofThisRun(m.eventType)) plus(here, m);
    const there = zero();
    for (const d of global.days) if (ofThisRun(d.eventType) && d.regions[r]) plus(there, d.regions[r]);
    const same = here.totalEvents === there.totalEvents && here.uniqueUsers === there.uniqueUsers;
    if (same && here.totalEvents > 0) matches++;
    return [
      r,
      sent[r],
      here.totalEvents,
      here.uniqueUsers,
      there.totalEvents,
      there.uniqueUsers,
      same ? "=" : "≠",
    ];
  });
  fillTable(
    byId("compare-table"),
    ["region", "sent", "regional events", "regional users", "global events", "global users", ""],
    rows,
  );
  const active = REGIONS.filter((r) => sent[r] > 0).length;
  const el = byId("compare-result");
  el.dataset.matches = String(matches);
  if (active === 0) say(el, "Send some events first.");
  else if (matches === active)
    say(el, `Global matches every region (${matches} of ${active}), per event type and day.`, true);
  else
    say(
      el,
      `Global differs from ${active - matches} region(s): not synced yet, or events arrived since.`,
      false,
    );
}

/** The global actor's tables and columns, each column checked against the PII list. */
export async function showColumns(): Promise<void> {
  const { tables } = await api<{ tables: { name: string; columns: string[] }[] }>(
    "/analytics/global/columns",
  );
  const rows = tables.flatMap((t) =>
    t.columns.map((c) => [t.name, c, PII_COLUMNS.includes(c) ? "PII" : "no"]),
  );
  fillTable(byId("columns-table"), ["table", "column", "PII?"], rows);
  const pii = rows.filter((r) => r[2] === "PII").map((r) => `${r[0]}.${r[1]}`);
  const el = byId("columns-result");
  el.dataset.pii = String(pii.length);
  el.dataset.columns = String(rows.length);
  if (tables.length === 0) say(el, "The global actor has no tables yet: no region has synced.");
  else if (pii.length === 0)
    say(
      el,
      `No PII column: ${rows.length} columns in ${tables.length} table(s), none of ${PII_COLUMNS.join(", ")}.`,
      true,
    );
  else say(el, `PII columns found: ${pii.join(", ")}`, false);
}
