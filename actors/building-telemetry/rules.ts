import type { Condition, SensorType, Severity } from "./schema";

/** An alert rule as the actor keeps it in memory (and answers it). */
export interface AlertRule {
  id: number;
  sensorId: string | null;
  sensorType: SensorType;
  condition: Condition;
  thresholdValue: number | null;
  thresholdMin: number | null;
  thresholdMax: number | null;
  severity: Severity;
  cooldownSeconds: number;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

/**
 * Whether `value` breaches `rule`, and the threshold it crossed (for range_outside, the bound on
 * the side it left by); undefined when it does not.
 */
export function breach(rule: AlertRule, value: number): number | undefined {
  const t = rule.thresholdValue as number;
  switch (rule.condition) {
    case "gt":
      return value > t ? t : undefined;
    case "gte":
      return value >= t ? t : undefined;
    case "lt":
      return value < t ? t : undefined;
    case "lte":
      return value <= t ? t : undefined;
    case "eq":
      return value === t ? t : undefined;
    case "neq":
      return value !== t ? t : undefined;
    case "range_outside": {
      const min = rule.thresholdMin as number;
      const max = rule.thresholdMax as number;
      if (value < min) return min;
      if (value > max) return max;
      return undefined;
    }
  }
}

/** Enabled rules by sensor type: a reading looks at its type's rules only (no query per reading). */
export class RuleIndex {
  readonly #byType = new Map<SensorType, AlertRule[]>();

  constructor(rules: AlertRule[]) {
    let size = 0;
    for (const rule of rules) {
      if (!rule.enabled) continue;
      size++;
      const list = this.#byType.get(rule.sensorType) ?? [];
      list.push(rule);
      this.#byType.set(rule.sensorType, list);
    }
    this.size = size;
  }

  /** How many enabled rules there are. */
  readonly size: number;

  /**
   * The enabled rules of a sensor type (each applies to every sensor of the type, or to its
   * `sensorId` alone); undefined when there are none. One Map lookup per reading.
   */
  ofType(sensorType: SensorType): readonly AlertRule[] | undefined {
    return this.#byType.get(sensorType);
  }
}

/** The key of the cooldown and of the open alert: one rule, one sensor. */
export const alertKey = (ruleId: number, sensorId: string): string => `${ruleId}\u0000${sensorId}`;
