import { defineConfig } from "vitest/config";

// The client (dosql-actors/client) in Node 22 against a real `wrangler dev` on loopback.
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    // CI asks for JSON results too (beside the workerd run's), to count these tests in its summary line.
    reporters: process.env.VITEST_JSON_OUT ? ["default", "json"] : ["default"],
    outputFile: process.env.VITEST_JSON_OUT
      ? { json: `${process.env.VITEST_JSON_OUT}.node.json` }
      : undefined,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
