// The alert rules: the form (POST /buildings/:b/alerts/rules) and the list (GET …/rules), each
// rule with a switch (PATCH …/rules/:id { enabled }).
import { api } from "./api";
import { byId } from "./dom";
import type { AlertRule } from "./iot-types";

const value = (id: string) => byId<HTMLInputElement>(id).value;
const rulesPath = (b: string) => `/buildings/${encodeURIComponent(b)}/alerts/rules`;

/** The form's rule, as the route takes it. */
export function ruleFromForm() {
  const condition = value("rule-condition");
  const sensorId = value("rule-sensor").trim();
  const low = Number(value("rule-value"));
  return {
    sensorType: "co2",
    sensorId: sensorId || null,
    condition,
    ...(condition === "range_outside"
      ? { thresholdMin: low, thresholdMax: Number(value("rule-max")) }
      : { thresholdValue: low }),
    severity: value("rule-severity"),
    cooldownSeconds: Number(value("rule-cooldown")),
  };
}

export const createRule = (building: string) => api<AlertRule>(rulesPath(building), ruleFromForm());

const SYMBOL: Record<string, string> = { gt: ">", gte: "≥", lt: "<", lte: "≤", eq: "=", neq: "≠" };
const describe = (r: AlertRule) =>
  r.condition === "range_outside"
    ? `outside ${r.thresholdMin}–${r.thresholdMax}`
    : `${SYMBOL[r.condition] ?? r.condition} ${r.thresholdValue}`;

export async function loadRules(building: string) {
  const { rules } = await api<{ rules: AlertRule[] }>(rulesPath(building));
  const table = byId<HTMLTableElement>("rules-table");
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const c of ["#", "sensor", "when", "severity", "cooldown", "on"])
    head.appendChild(document.createElement("th")).textContent = c;
  const body = table.createTBody();
  for (const r of rules) {
    const tr = body.insertRow();
    for (const c of [
      r.id,
      r.sensorId ?? `any ${r.sensorType}`,
      describe(r),
      r.severity,
      `${r.cooldownSeconds} s`,
    ])
      tr.insertCell().textContent = String(c);
    const box = tr.insertCell().appendChild(document.createElement("input"));
    box.type = "checkbox";
    box.checked = r.enabled;
    box.setAttribute("aria-label", `rule ${r.id} enabled`);
    box.addEventListener("change", async () => {
      await api(`${rulesPath(building)}/${r.id}`, { enabled: box.checked }, "PATCH");
      await loadRules(building);
    });
  }
}
