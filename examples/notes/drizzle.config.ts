import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  driver: "durable-sqlite",
  schema: "./examples/notes/schema.ts",
  out: "./examples/notes/migrations",
});
