// Bundle the pages' scripts (web/js) before the browser tests serve them.
import { execFileSync } from "node:child_process";

export default function setup() {
  execFileSync(process.execPath, ["scripts/build-web.mjs"], { stdio: "inherit" });
}
