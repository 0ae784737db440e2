/** What an actor tells its registry about itself. */
export interface FleetReport {
  name: string;
  /** The actor's class (the registry reaches it through `ctx.exports[className]`). */
  className: string;
  version: string | null;
  bytes: number;
  /** The actor's jurisdiction (`ctx.id.jurisdiction`, e.g. "eu"): the registry reaches it there. */
  jurisdiction?: string | null;
}

/** One actor as the registry knows it. */
export interface FleetEntry {
  name: string;
  className: string;
  /** Epoch ms of the first report. */
  createdAt: number;
  /** Epoch ms of the last report or wake through the registry. */
  lastSeen: number;
  version: string | null;
  bytes: number;
  /** The last error a fleet operation met on this actor (cleared by the next success). */
  error: { code: string; message: string } | null;
}

export interface FleetPage {
  actors: FleetEntry[];
  /** Pass back for the next page; null at the end. */
  cursor: string | null;
  total: number;
}

export interface ActorFailure {
  actor: string;
  code: string;
  message: string;
}

export interface MigrateProgress {
  /** Actors woken by this call (or this job run). */
  processed: number;
  /** Of those, how many applied a migration on that wake. */
  migrated: number;
  errors: ActorFailure[];
  /** Resume from here; null when every actor was reached. */
  cursor: string | null;
  done: boolean;
  /** Actors registered, and how many are at each schema version. */
  total: number;
  versions: Record<string, number>;
}

export interface MigrateJob extends MigrateProgress {
  running: boolean;
  concurrency: number;
  /** Actors per alarm run. */
  limit: number;
  startedAt: number;
  updatedAt: number;
}

export interface QueryAllResult {
  results: { actor: string; rows: Record<string, SqlStorageValue>[]; truncated: boolean }[];
  errors: ActorFailure[];
  cursor: string | null;
  done: boolean;
}

/** What a member answers the registry when woken. */
export interface MemberInfo {
  version: string | null;
  bytes: number;
  /** Migrations applied on this wake (the wake the registry's call caused, if it did). */
  applied: number;
}
