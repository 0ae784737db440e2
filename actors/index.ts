// The prebuilt actors. Each folder: schema.ts, <name>.ts, inputs.ts, routes.ts, README.md.
export {};
