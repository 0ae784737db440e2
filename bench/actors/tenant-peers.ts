import { Actor } from "@cloudflare/actors";
import { Agent } from "agents";
import { Server } from "partyserver";
import init from "../../migrations/tenant-db/0000_init.sql";

// The tenant point read and write of bench/cases/tenant.mjs in the frameworks a user would pick
// instead of TenantDB, each written the way its own docs intend: every statement through the
// framework's `this.sql` tagged template (agents `Agent`, partyserver `Server`, `@cloudflare/actors`
// `Actor`), on the same tables (TenantDB's migration file) and the same SQL as PlainTenant
// (bench/actors/tenant.ts): a read is one primary-key SELECT, a write is a transaction of a
// SELECT (the task exists), the UPDATE of status, priority and updated_at, and a SELECT of the row.

const STATUSES = ["todo", "in_progress", "review", "done"];
type Task = { id: number; priority: number } & Record<string, string | number | boolean | null>;
type Sql = <T>(strings: TemplateStringsArray, ...values: (string | number | boolean | null)[]) => T[];

/** The same statements for each peer, through its `this.sql`. */
function tenantOps(sql: Sql, transactionSync: <T>(fn: () => T) => T) {
  const getTask = (id: number): Task => {
    if (!Number.isSafeInteger(id) || id < 1) throw new Error("bad id");
    const [row] =
      sql<Task>`SELECT id, project_id, title, description, assignee_id, status, priority, due_date, created_at,
  updated_at FROM tasks WHERE id = ${id}`;
    if (!row) throw new Error("no task");
    return row;
  };
  return {
    seed(): number {
      const [existing] = sql<{ id: number }>`SELECT id FROM tasks LIMIT 1`;
      if (existing) return existing.id;
      const at = new Date().toISOString();
      return transactionSync(() => {
        sql`INSERT INTO users (email, name, role, created_at, updated_at) VALUES ('bench@x.io', 'Bench', 'member', ${at}, ${at})`;
        sql`INSERT INTO projects (name, owner_id, status, created_at, updated_at) VALUES ('Bench', 1, 'active', ${at}, ${at})`;
        const [task] = sql<{
          id: number;
        }>`INSERT INTO tasks (project_id, title, assignee_id, status, priority, created_at, updated_at) VALUES (1, 'bench', 1, 'todo', 0, ${at}, ${at}) RETURNING id`;
        return task.id;
      });
    },
    reads(n: number, id: number): number {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += Number(getTask(id).priority);
      return sum;
    },
    writes(n: number, id: number): number {
      for (let i = 0; i < n; i++) {
        const status = STATUSES[i % 4];
        const priority = i % 100;
        transactionSync(() => {
          if (sql`SELECT id FROM tasks WHERE id = ${id}`.length === 0) throw new Error("no task");
          sql`UPDATE tasks SET status = ${status}, priority = ${priority}, updated_at = ${new Date().toISOString()} WHERE id = ${id}`;
          return getTask(id);
        });
      }
      return n;
    },
  };
}

/** TenantDB's tables, from its migration file (the schema only: nothing of it on the measured path). */
function createSchema(storage: DurableObjectStorage): void {
  if (storage.sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'tasks'").toArray().length > 0) return;
  storage.transactionSync(() => {
    for (const statement of init.split("--> statement-breakpoint")) storage.sql.exec(statement);
  });
}

/** The Agents SDK's `Agent`: `this.sql` for every statement, `ctx.storage.transactionSync` around a write. */
export class AgentTenant extends Agent<Env> {
  readonly #ops = tenantOps(this.sql.bind(this) as Sql, (fn) => this.ctx.storage.transactionSync(fn));
  #ready = false;

  #start(): void {
    if (this.#ready) return;
    createSchema(this.ctx.storage);
    this.#ready = true;
  }

  benchSeed(): number {
    this.#start();
    return this.#ops.seed();
  }

  benchReads(n: number, id: number): number {
    this.#start();
    return this.#ops.reads(n, id);
  }

  benchWrites(n: number, id: number): number {
    this.#start();
    return this.#ops.writes(n, id);
  }
}

/** partyserver's `Server` (the base of SqlActor) with its own `this.sql` tag. */
export class PartyTenant extends Server<Env> {
  readonly #ops = tenantOps(this.sql.bind(this) as Sql, (fn) => this.ctx.storage.transactionSync(fn));

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    createSchema(ctx.storage);
  }

  benchSeed(): number {
    return this.#ops.seed();
  }

  benchReads(n: number, id: number): number {
    return this.#ops.reads(n, id);
  }

  benchWrites(n: number, id: number): number {
    return this.#ops.writes(n, id);
  }
}

/**
 * `@cloudflare/actors`' `Actor`, as its README and examples write one: the schema as
 * `this.storage.migrations`, `await this.storage.runMigrations()` before the queries, `this.sql`
 * for every statement; reached with `ActorsTenant.get(name)` (its binding named as the class).
 */
export class ActorsTenant extends Actor<Env> {
  readonly #ops = tenantOps(this.sql.bind(this) as Sql, (fn) => this.ctx.storage.transactionSync(fn));

  constructor(ctx?: DurableObjectState, env?: Env) {
    super(ctx, env);
    this.storage.migrations = [
      {
        idMonotonicInc: 1,
        description: "tenant-db 0000_init",
        sql: init.replaceAll("--> statement-breakpoint", ""),
      },
    ];
  }

  async benchSeed(): Promise<number> {
    await this.storage.runMigrations();
    return this.#ops.seed();
  }

  async benchReads(n: number, id: number): Promise<number> {
    await this.storage.runMigrations();
    return this.#ops.reads(n, id);
  }

  async benchWrites(n: number, id: number): Promise<number> {
    await this.storage.runMigrations();
    return this.#ops.writes(n, id);
  }
}
