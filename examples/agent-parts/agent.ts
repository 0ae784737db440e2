// The framework's parts inside an Agents SDK `Agent` (agents 0.32): what composes, and what does not.
//
// Composes: the migrations runner (`applyMigrations` over the Agent's ctx.storage, in the
// constructor under blockConcurrencyWhile, as SqlActor does) and `Database` (drizzle, parameterised
// `query`/`run`, `transaction`). Their tables (`_dosql_migrations`, the app's) sit beside the
// Agent's own `cf_agents_*` tables in the one SQLite database.
//
// Does not compose: `Scheduler` (both it and the Agent's Lifecycle own the object's one alarm, and
// each re-arms it from its own table only: `alarmOwners` below shows the Agent's re-arm dropping
// the alarm the Scheduler set), and the parts (history, tiering, forward, sources, rpc), which only
// SqlActor can host. See docs/agents.md.
import { Agent } from "agents";
import { ActorError, applyMigrations, Database, type MigrationReport, Scheduler } from "dosql-actors";
import notesSql from "./migrations/0000_notes.sql";
import { notes } from "./schema";

const schema = { notes };
const migrations = { migrations: { "0000_notes": notesSql } };

export class NotesAgent extends Agent<Env> {
  readonly store: Database<typeof schema>;
  #report: MigrationReport | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new Database(ctx.storage, schema);
    // Before any request, on every wake: a pending migration applies once (ledger), a changed or
    // reordered one throws MIGRATION_* and every call fails with it.
    void ctx.blockConcurrencyWhile(async () => {
      this.#report = applyMigrations(ctx.storage, migrations);
    });
  }

  addNote(body: unknown): { id: number; body: string } {
    if (typeof body !== "string" || body.trim() === "" || body.length > 1000)
      throw new ActorError("VALIDATION_FAILED", "body: 1-1000 characters, not blank");
    return this.store.db.insert(notes).values({ body }).returning().get();
  }

  listNotes(): { id: number; body: string }[] {
    return this.store.query<{ id: number; body: string }>("SELECT id, body FROM notes ORDER BY id");
  }

  schemaVersion(): string | null {
    return this.#report?.version ?? null;
  }

  /** The tables of the one database: the framework's and the Agent's side by side. */
  tableNames(): string[] {
    return this.store
      .query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .map((row) => row.name);
  }

  /**
   * The conflict, measured: a framework Scheduler arms the alarm for its task, then the Agent
   * schedules and cancels one of its own (any Lifecycle queue change re-arms the alarm from the
   * Agent's queue alone). The Scheduler's task is still in its table; the alarm that would run it is gone.
   */
  async alarmOwners(): Promise<{
    afterScheduler: number | null;
    afterAgent: number | null;
    pending: number;
  }> {
    const scheduler = new Scheduler(this, this.ctx.storage);
    await scheduler.start();
    scheduler.at(60_000, "remind", undefined, { key: "remind" });
    await new Promise((resolve) => setTimeout(resolve, 10)); // the Scheduler's setAlarm is not awaited
    const afterScheduler = await this.ctx.storage.getAlarm();
    const own = await this.schedule(3600, "agentTask");
    await this.cancelSchedule(own.id);
    const afterAgent = await this.ctx.storage.getAlarm();
    const pending = scheduler.list().length;
    return { afterScheduler, afterAgent, pending };
  }

  remind(): void {}

  agentTask(): void {}
}
