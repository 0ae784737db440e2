import { defineConfig } from "vitest/config";

// The client (dosql-actors/client) in Node 22 against a real `wrangler dev` on loopback.
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
