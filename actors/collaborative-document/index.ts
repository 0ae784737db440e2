// `dosql-actors/actors/collaborative-document`: the CollaborativeDocument actor alone (its routes are
// `dosql-actors/actors/collaborative-document/routes`). Classes and types only: a Worker may
// `export *` from here, and workerd refuses any other value exported by a Worker's main module.
export type { Block } from "./blocks";
export { CollaborativeDocument, type PresenceEntry } from "./collaborative-document";
export type { AppliedOperation, Effect } from "./edits";
export type { HistoryEntry } from "./log";
