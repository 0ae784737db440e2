// The Worker the tests run: the coordinator and every actor, plus test fixtures.
export * from "../worker";
export { default } from "../worker";
export { FixtureActor, PlainNotes } from "./fixtures/actors";
export { TieredActor } from "./fixtures/tiered";
