// Figures a case reports beside its ratio that carry a goal of their own: `{ value, goal, met }`,
// which bench/table.mjs prints as "met" or "missed" in the goal column. And the one percentile.

/** The `p`-quantile (0..1) of `xs`, nearest rank from below. */
export const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

/** `value` must be at most `goal`; `text` is how the figure reads (the value to 2 places unless told). */
export const atMost = (value, goal, text = value.toFixed(2), unit = "") => ({
  value: text,
  goal: `≤ ${goal}${unit}`,
  met: value <= goal,
});

/** `value` must be at least `goal`. */
export const atLeast = (value, goal, text = String(value), unit = "") => ({
  value: text,
  goal: `≥ ${goal.toLocaleString("en")}${unit}`,
  met: value >= goal,
});

/**
 * The HTTP goal: p50 and p99 through the coordinator within 1.2× of the hand-written
 * Worker + DO, from interleaved sequential latencies (ms) of both (`lat.actor`, `lat.plain`).
 */
export function latencyGoals(lat, count, goal = 1.2) {
  const ms = (x) => `${x.toFixed(2)} ms`;
  const p = (side, q) => percentile(lat[side], q);
  const ratio = (q) => {
    const r = p("actor", q) / p("plain", q);
    return atMost(r, goal, `${r.toFixed(2)} (${ms(p("actor", q))} ÷ ${ms(p("plain", q))})`, "×");
  };
  return {
    [`coordinator p50 / p99 (${count} sequential)`]: `${ms(p("actor", 0.5))} / ${ms(p("actor", 0.99))}`,
    [`hand-written p50 / p99 (${count} sequential)`]: `${ms(p("plain", 0.5))} / ${ms(p("plain", 0.99))}`,
    "p50 ratio, coordinator ÷ hand-written Worker + DO": ratio(0.5),
    "p99 ratio, coordinator ÷ hand-written Worker + DO": ratio(0.99),
  };
}
