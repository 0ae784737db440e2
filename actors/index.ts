// The prebuilt actors. Each folder: schema.ts, <name>.ts, inputs.ts, routes.ts, README.md, and an
// index.ts of its own (`dosql-actors/actors/<name>`): import one from there to bundle only that one.

export * from "./building-telemetry/index";
export * from "./central-telemetry/index";
export * from "./collaborative-document/index";
export * from "./inventory-sku/index";
export * from "./order/index";
