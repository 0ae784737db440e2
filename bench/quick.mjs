// `npm run bench -- --quick` (CI): small N and few rounds, to keep the harness working in under two
// minutes; its figures are not asserted. Cases read QUICK to size their work.
export const QUICK = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";
