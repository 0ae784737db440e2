import { ActorError } from "../../errors";
import type { QueryRun, ScratchTable } from "../../sql/scratch";
import type { ColumnFilter } from "../../sql/sources";
import { readRange, scanFile } from "../../tiering/parquet-read";
import type { AsyncBuffer } from "../../tiering/r2-store";
import type { Deadline } from "../deadline";
import { badFormat, reasonOf } from "../errors";

/** One row group is decoded whole: at most this many (uncompressed) bytes. */
const MAX_ROW_GROUP_BYTES = 64 << 20;

/**
 * Parquet through tiering's reader (hyparquet, loaded on first use): row groups whose statistics
 * cannot meet the query's filters are skipped, and the kept ones are loaded one range at a time.
 */
export async function loadParquet(
  label: string,
  file: AsyncBuffer | ArrayBuffer,
  table: ScratchTable,
  filters: ColumnFilter[],
  run: QueryRun,
  maxRows: number,
  deadline: Deadline,
): Promise<void> {
  let scan: Awaited<ReturnType<typeof scanFile>>;
  try {
    scan = await deadline.race(scanFile(file, filters));
  } catch (err) {
    throw malformed(label, err);
  }
  if (scan.largestGroupBytes > MAX_ROW_GROUP_BYTES)
    throw new ActorError(
      "QUERY_TOO_LARGE",
      `${label}: a row group needs ${scan.largestGroupBytes} bytes to read, over ${MAX_ROW_GROUP_BYTES}`,
      { source: label, maxRowGroupBytes: MAX_ROW_GROUP_BYTES },
    );
  run.rows += scan.rows;
  if (run.rows > maxRows)
    throw new ActorError(
      "QUERY_TOO_LARGE",
      `the query would load more than ${maxRows} rows from its sources`,
      {
        maxRows,
        source: label,
      },
    );
  table.ensure(scan.columns);
  const inserter = table.inserter(scan.columns);
  for (const range of scan.scan.ranges) {
    let columns: ArrayLike<unknown>[];
    try {
      columns = await deadline.race(readRange(scan, range.rowStart, range.rowEnd));
    } catch (err) {
      throw malformed(label, err);
    }
    if (deadline.expired) throw deadline.error();
    inserter.addColumns(columns);
    inserter.flush();
  }
}

function malformed(label: string, err: unknown): unknown {
  const code = ActorError.from(err)?.code;
  if (code?.startsWith("SOURCE_") || code === "QUERY_TOO_LARGE") return err;
  if (code === "ARCHIVE_UNAVAILABLE" || code === "ARCHIVE_FILE_MISSING")
    return new ActorError("SOURCE_UNREACHABLE", `${label}: ${reasonOf(err)}`, { source: label });
  return badFormat(label, `not a readable Parquet file (${reasonOf(err)})`, {});
}
