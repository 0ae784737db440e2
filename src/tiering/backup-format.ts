import * as z from "zod/mini";
import { ActorError } from "../errors";

/** `backup.json`: written last, so a backup exists only once every part is in R2. */
export const BackupManifest = z.object({
  format: z.literal(1),
  actor: z.string(),
  createdAt: z.number(),
  /** Newest applied migration, or null. */
  schemaVersion: z.nullable(z.string()),
  /** Highest LSN of the history WAL at the snapshot, or null without history. */
  walLsn: z.nullable(z.number()),
  /** sqlite_master entries (tables, indexes, triggers, views) to recreate, in creation order. */
  objects: z.array(z.object({ type: z.string(), name: z.string(), tbl: z.string(), sql: z.string() })),
  tables: z.array(
    z.object({
      name: z.string(),
      /** The snapshot kept rowids (first column `_dosql_rowid`). */
      rowid: z.boolean(),
      columns: z.array(z.object({ name: z.string(), type: z.string() })),
      rows: z.number(),
      parts: z.array(z.object({ key: z.string(), rows: z.number(), size: z.number() })),
    }),
  ),
  sequences: z.array(z.object({ name: z.string(), seq: z.number() })),
});
export type BackupManifest = z.infer<typeof BackupManifest>;

export function parseBackupManifest(text: string, key: string): BackupManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ActorError("BACKUP_CORRUPT", `${key} is not JSON`, { key });
  }
  const parsed = BackupManifest.safeParse(json);
  if (!parsed.success)
    throw new ActorError(
      "BACKUP_CORRUPT",
      `${key} is not a backup manifest: ${parsed.error.issues[0]?.message}`,
      {
        key,
      },
    );
  return parsed.data;
}
