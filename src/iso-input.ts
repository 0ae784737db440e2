import * as z from "zod/mini";
import { _isoDate, _isoDateTime } from "zod/v4/core";

// The two ISO-8601 schemas the inputs use, built from zod's own classes exactly as
// `z.iso.datetime({ offset: true })` and `z.iso.date()` build them. Reading them off the `z.iso`
// namespace object kept every member of it: the time and duration schemas and their patterns too.

/** An ISO-8601 date-time, `Z` or a numeric offset (`z.iso.datetime({ offset: true })`). */
export const isoDateTime = (): z.ZodMiniISODateTime => _isoDateTime(z.ZodMiniISODateTime, { offset: true });

/** An ISO-8601 calendar date, `YYYY-MM-DD` (`z.iso.date()`). */
export const isoDate = (): z.ZodMiniISODate => _isoDate(z.ZodMiniISODate);
