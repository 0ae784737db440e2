import type { ResolvedTiering } from "./config";

/**
 * What a scheduled tiering run does: archive one configured table, back up, or continue the
 * unfinished jobs (a step that ran out of budget schedules this one a second later).
 */
export type TieringTask = { archive: string } | { backup: true } | { resume: true };

/** The actor method schedules call with a TieringTask. */
export const TIERING_METHOD = "tieringStep";
/** Keys of tiering's schedules all start with this. */
export const TIERING_KEY = "tiering:";
export const RESUME_KEY = `${TIERING_KEY}resume`;

/** The recurring schedules the config asks for, each under a stable key (so every wake re-declares them). */
export function scheduledTasks(
  config: ResolvedTiering,
): { key: string; every: number | string; task: TieringTask }[] {
  const tasks: { key: string; every: number | string; task: TieringTask }[] = [];
  for (const a of config.archive ?? [])
    tasks.push({ key: `${TIERING_KEY}archive:${a.table}`, every: a.every, task: { archive: a.table } });
  if (config.backup)
    tasks.push({ key: `${TIERING_KEY}backup`, every: config.backup.every, task: { backup: true } });
  return tasks;
}

/** The subset of `this.schedule` tiering uses (structural: tiering does not import the scheduler). */
export interface TieringScheduler {
  every(every: number | string, method: string, payload: unknown, options: { key: string }): unknown;
  at(when: number, method: string, payload: unknown, options: { key: string }): unknown;
  cancel(idOrKey: string): boolean;
  list(): { key: string | null }[];
}

/** Book the continuation of unfinished jobs (one task under a fixed key: booking again moves it). */
export function scheduleResume(config: ResolvedTiering, scheduler: TieringScheduler): void {
  scheduler.at(config.resumeDelayMs, TIERING_METHOD, { resume: true }, { key: RESUME_KEY });
}

/** Declare the configured schedules and cancel tiering schedules the config no longer has. */
export function declareSchedules(config: ResolvedTiering, scheduler: TieringScheduler): void {
  const wanted = scheduledTasks(config);
  for (const t of wanted) scheduler.every(t.every, TIERING_METHOD, t.task, { key: t.key });
  const keys = new Set(wanted.map((t) => t.key));
  for (const s of scheduler.list())
    if (s.key?.startsWith(TIERING_KEY) && s.key !== RESUME_KEY && !keys.has(s.key)) scheduler.cancel(s.key);
}
