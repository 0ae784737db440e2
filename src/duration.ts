const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * A duration written for people: "1500ms", "90s", "15m", "1.5h", "30d", "2w" → milliseconds.
 * Undefined when malformed or not positive; callers turn that into their own typed error.
 */
export function parseDuration(text: string): number | undefined {
  if (typeof text !== "string") return undefined;
  const m = /^(\d{1,12}(?:\.\d{1,6})?)\s*(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms > 0 && Number.isFinite(ms) ? ms : undefined;
}
