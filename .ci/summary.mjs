// Prints "N passed, N failed" from vitest's JSON reporter output (one or more files, added up);
// fails when a file is missing (that run did not get as far as vitest) or nothing ran.
import { existsSync, readFileSync } from "node:fs";

const files = process.argv.slice(2);
const total = { passed: 0, failed: 0, skipped: 0, ran: 0, failedSuites: 0 };
let missing = files.length === 0;
for (const file of files) {
  if (!existsSync(file)) {
    console.error(`no vitest results in ${file}: that run did not get as far as vitest`);
    missing = true;
    continue;
  }
  const r = JSON.parse(readFileSync(file, "utf8"));
  total.passed += r.numPassedTests;
  total.failed += r.numFailedTests;
  total.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  total.ran += r.numTotalTests;
  total.failedSuites += r.numFailedTestSuites;
}
console.log(
  `${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ""}`,
);
if (missing || total.ran === 0 || total.failed > 0 || total.failedSuites > 0) process.exit(1);
