import m0000 from "./0000_init.sql";
import m0001 from "./0001_minute_members.sql";
import m0002 from "./0002_minute_members_backfill.sql";
import m0003 from "./0003_raw_events_counts.sql";
import m0004 from "./0004_raw_events_counts_by_changes.sql";
import journal from "./meta/_journal.json";

export default {
  journal,
  migrations: {
    m0000,
    m0001,
    m0002,
    m0003,
    m0004,
  },
};
