// What the document page reads from the CollaborativeDocument actor (its own types).
export type { Block, BlockRow } from "../../actors/collaborative-document/blocks";
export type { PresenceEntry } from "../../actors/collaborative-document/collaborative-document";
export type { AppliedOperation } from "../../actors/collaborative-document/edits";
export type { HistoryEntry } from "../../actors/collaborative-document/log";
