import * as z from "zod/mini";
import { IDENTIFIER } from "../export-name";

/** Bounds of one call: a Worker invocation allows only so many subrequests (1,000 on paid plans). */
export const MAX_BATCH = 500;
export const DEFAULT_BATCH = 100;
export const MAX_CONCURRENCY = 50;
export const DEFAULT_CONCURRENCY = 10;
export const MAX_ROWS_PER_ACTOR = 10_000;

const cursor = z.optional(z.nullable(z.string().check(z.minLength(1), z.maxLength(128))));
const limit = z.optional(z.int().check(z.gte(1), z.lte(MAX_BATCH)));
const concurrency = z.optional(z.int().check(z.gte(1), z.lte(MAX_CONCURRENCY)));
const sqlValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const reportInput = z.object({
  name: z.string().check(z.minLength(1), z.maxLength(128)),
  className: z.string().check(z.regex(IDENTIFIER)),
  version: z.nullable(z.string().check(z.maxLength(256))),
  bytes: z.int().check(z.gte(0)),
  jurisdiction: z.optional(z.nullable(z.string().check(z.regex(/^[a-z]{2,16}$/)))),
});

export const listInput = z.object({ cursor, limit });
export type ListInput = z.input<typeof listInput>;

/** `background`: keep going from alarms until every actor was reached (progress: `migrateStatus`). */
export const migrateInput = z.object({ cursor, limit, concurrency, background: z.optional(z.boolean()) });
export type MigrateInput = z.input<typeof migrateInput>;

export const queryInput = z.object({
  sql: z.string().check(z.minLength(1), z.maxLength(100_000)),
  params: z.optional(z.array(sqlValue).check(z.maxLength(100))),
  cursor,
  limit,
  concurrency,
  /** Rows per actor at most (default 1,000). */
  rows: z.optional(z.int().check(z.gte(1), z.lte(MAX_ROWS_PER_ACTOR))),
});
export type QueryInput = z.input<typeof queryInput>;
