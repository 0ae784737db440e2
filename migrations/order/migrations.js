import m0000 from "./0000_init.sql";
import m0001 from "./0001_payment_refund_due.sql";
import m0002 from "./0002_payment_refund_reason.sql";
import journal from "./meta/_journal.json";

export default {
  journal,
  migrations: {
    m0000,
    m0001,
    m0002,
  },
};
