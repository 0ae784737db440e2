// The analytics page's synthetic visitors: events with PII (user ids, IPs, agents, URLs with query
// strings, referrers) sent to each region's public ingest route, in batches.
import { api } from "./api";

export const REGIONS = ["us", "eu", "apac"] as const;
export type Region = (typeof REGIONS)[number];
const TYPES = ["page_view", "add_to_cart", "purchase"] as const;
const PAGES = ["/", "/products", "/products/mug", "/cart", "/checkout"];
const AGENTS = ["Mozilla/5.0 (iPhone)", "Mozilla/5.0 (X11; Linux)", "Mozilla/5.0 (Macintosh)"];

/** This page load's tag, appended to every event type: the figures shown are this run's alone. */
export const RUN = Math.random().toString(36).slice(2, 8);
export const eventType = (base: string) => `${base}.${RUN}`;
export const ofThisRun = (type: string) => type.endsWith(`.${RUN}`);

/** Events sent per region by this page (accepted by the region). */
export const sent: Record<Region, number> = { us: 0, eu: 0, apac: 0 };

const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)] as T;

function visitorEvent(i: number) {
  const user = Math.floor(Math.random() * 40);
  return {
    sessionId: `s-${RUN}-${Math.floor(Math.random() * 60)}`,
    eventType: eventType(i % 10 === 0 ? "purchase" : pick(TYPES.slice(0, 2))),
    pageUrl: `https://shop.example${pick(PAGES)}?utm_source=mail&uid=${user}`,
    timestamp: Date.now(),
    userId: `user-${user}@example.com`,
    ipAddress: `203.0.113.${user + 1}`,
    userAgent: pick(AGENTS),
    referrer: "https://search.example/?q=mugs",
    properties: { cartValue: Math.round(Math.random() * 9000) / 100 },
  };
}

/** Send `n` events spread over the three regions, one batch per region (at most 1,000 each). */
export async function sendBurst(n: number): Promise<number> {
  const byRegion: Record<Region, ReturnType<typeof visitorEvent>[]> = { us: [], eu: [], apac: [] };
  for (let i = 0; i < n; i++) byRegion[REGIONS[i % REGIONS.length] as Region].push(visitorEvent(i));
  let accepted = 0;
  await Promise.all(
    REGIONS.map(async (r) => {
      const events = byRegion[r];
      for (let i = 0; i < events.length; i += 1000) {
        const res = await api<{ accepted: number }>(`/analytics/${r}/ingest`, events.slice(i, i + 1000));
        sent[r] += res.accepted;
        accepted += res.accepted;
      }
    }),
  );
  return accepted;
}
