import { parseDuration } from "../duration";
import { badInput } from "../errors";
import { pendingKeys, setPendingKeys, type TieringContext } from "./context";
import { DETACHED, JOBS, MANIFEST } from "./tables";

/** A retention age (`keepFor: "730d"`) in ms; a typed 400 when it is not an age. */
export function keepForMs(keepFor: unknown): number {
  const ms = typeof keepFor === "string" ? parseDuration(keepFor) : undefined;
  if (ms === undefined) throw badInput('keepFor must be an age like "365d"', { field: "keepFor" });
  return ms;
}

/**
 * Retention of archived files: delete every file of `table` in this actor's manifest whose newest
 * row is older than `before` (in the time column's unit). The manifest rows go first, in one
 * transaction that also records their keys as the job's pending keys, so cold queries stop
 * planning them at once; the objects are deleted after, and a failed delete is retried by the
 * next run or `resume()`. Files a restore took out of the manifest (they were archived after the
 * backup) expire by the same rule. Only keys this actor's own manifest lists or listed are ever
 * deleted: another actor's files (another tenant's prefix) are never listed, let alone touched.
 */
export async function expireArchive(ctx: TieringContext, table: string, before: number): Promise<string[]> {
  const jobId = `expire:${table}`;
  ctx.transaction(() => {
    const old = ctx.sql
      .exec<{ id: number; bucket: string; key: string }>(
        `SELECT id, bucket, key FROM ${MANIFEST} WHERE tbl = ? AND max_time < ? ORDER BY id`,
        table,
        before,
      )
      .toArray();
    // Files a restore took out of the manifest (backup.ts): a file the manifest lists again is its
    // own; the others expire by the same rule.
    ctx.sql.exec(
      `DELETE FROM ${DETACHED} WHERE EXISTS (SELECT 1 FROM ${MANIFEST} m WHERE m.bucket = ${DETACHED}.bucket AND m.key = ${DETACHED}.key)`,
    );
    const detached = ctx.sql
      .exec<{ bucket: string; key: string }>(
        `SELECT bucket, key FROM ${DETACHED} WHERE tbl = ? AND max_time < ? ORDER BY key`,
        table,
        before,
      )
      .toArray();
    if (old.length === 0 && detached.length === 0) return;
    const now = Date.now();
    ctx.sql.exec(
      `INSERT INTO ${JOBS} (id, kind, spec, state, created_at, updated_at) VALUES (?, 'expire', ?, '{}', ?, ?)
       ON CONFLICT (id) DO NOTHING`,
      jobId,
      JSON.stringify({ table }),
      now,
      now,
    );
    const pending = pendingKeys(ctx.sql, jobId);
    const keys = [...old, ...detached].map(({ bucket, key }) => ({ bucket, key }));
    setPendingKeys(ctx.sql, jobId, [...pending, ...keys]);
    for (const { id } of old) ctx.sql.exec(`DELETE FROM ${MANIFEST} WHERE id = ?`, id);
    for (const { bucket, key } of detached)
      ctx.sql.exec(`DELETE FROM ${DETACHED} WHERE bucket = ? AND key = ?`, bucket, key);
  });
  return finishExpire(ctx, jobId);
}

/** Delete the objects an expire job took out of the manifest, then the job; the keys deleted. */
export async function finishExpire(ctx: TieringContext, jobId: string): Promise<string[]> {
  const pending = pendingKeys(ctx.sql, jobId);
  const buckets = new Map<string, string[]>();
  for (const { bucket, key } of pending) buckets.set(bucket, [...(buckets.get(bucket) ?? []), key]);
  for (const [bucket, keys] of buckets) await ctx.store(bucket).delete(keys);
  ctx.sql.exec(`DELETE FROM ${JOBS} WHERE id = ?`, jobId);
  return pending.map((p) => p.key);
}
