import { DurableObject } from "cloudflare:workers";
import { jwtVerify } from "jose";
import { TenantDB } from "../../actors/index";
import init from "../../migrations/tenant-db/0000_init.sql";
import doneAt from "../../migrations/tenant-db/0001_tasks_done_at.sql";

/**
 * The framework side: the real TenantDB, plus methods that run `n` point reads (getTask) or
 * point writes (updateTask: status, priority, done_at, updated_at) in one call.
 */
export class BenchTenant extends TenantDB {
  async benchSeed(): Promise<number> {
    const existing = this.database.query<{ id: number }>("SELECT id FROM tasks LIMIT 1")[0];
    if (existing) return existing.id;
    const user = await this.createUser({ email: "bench@x.io", name: "Bench" });
    const project = await this.createProject({ name: "Bench", owner_id: user.id });
    return (await this.createTask({ project_id: project.id, title: "bench", assignee_id: user.id })).id;
  }

  benchReads(n: number, id: number): number {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.getTask({ id }).priority;
    return sum;
  }

  benchWrites(n: number, id: number): number {
    const statuses = ["todo", "in_progress", "review", "done"] as const;
    for (let i = 0; i < n; i++) this.updateTask({ id, status: statuses[i % 4], priority: i % 100 });
    return n;
  }
}

const TASK = `SELECT id, project_id, title, description, assignee_id, status, priority, due_date, created_at,
  updated_at FROM tasks WHERE id = ?`;
const STATUSES = ["todo", "in_progress", "review", "done"];

/** The baseline: a hand-written Durable Object doing the same SQL (same tables, same migration). */
export class PlainTenant extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    const exists = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'tasks'").toArray().length > 0;
    if (!exists)
      ctx.storage.transactionSync(() => {
        for (const statement of `${init}--> statement-breakpoint\n${doneAt}`.split(
          "--> statement-breakpoint",
        ))
          this.#sql.exec(statement);
      });
  }

  benchSeed(): number {
    const existing = this.#sql.exec<{ id: number }>("SELECT id FROM tasks LIMIT 1").toArray()[0];
    if (existing) return existing.id;
    const at = new Date().toISOString();
    return this.ctx.storage.transactionSync(() => {
      this.#sql.exec(
        "INSERT INTO users (email, name, role, created_at, updated_at) VALUES ('bench@x.io', 'Bench', 'member', ?, ?)",
        at,
        at,
      );
      this.#sql.exec(
        "INSERT INTO projects (name, owner_id, status, created_at, updated_at) VALUES ('Bench', 1, 'active', ?, ?)",
        at,
        at,
      );
      return Number(
        this.#sql
          .exec(
            "INSERT INTO tasks (project_id, title, assignee_id, status, priority, created_at, updated_at) VALUES (1, 'bench', 1, 'todo', 0, ?, ?) RETURNING id",
            at,
            at,
          )
          .one().id,
      );
    });
  }

  getTask(id: number): Record<string, SqlStorageValue> {
    if (!Number.isSafeInteger(id) || id < 1) throw new Error("bad id");
    const row = this.#sql.exec(TASK, id).toArray()[0];
    if (!row) throw new Error("no task");
    return row;
  }

  benchReads(n: number, id: number): number {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Number(this.getTask(id).priority);
    return sum;
  }

  benchWrites(n: number, id: number): number {
    for (let i = 0; i < n; i++) {
      const status = STATUSES[i % 4];
      const priority = i % 100;
      this.ctx.storage.transactionSync(() => {
        if (this.#sql.exec(TASK, id).toArray().length === 0) throw new Error("no task");
        const ms = Date.now();
        this.#sql.exec(
          "UPDATE tasks SET status = ?, priority = ?, done_at = CASE WHEN ? = 'done' THEN coalesce(done_at, ?) ELSE NULL END, updated_at = ? WHERE id = ?",
          status,
          priority,
          status,
          ms,
          new Date(ms).toISOString(),
          id,
        );
        return this.#sql.exec(TASK, id).one();
      });
    }
    return n;
  }
}

/**
 * The hand-written Worker in front of PlainTenant: `GET /plain-tenants/:tenant/tasks/:id`, with
 * the same JWT check as the coordinator (HS256 with jose, `tenant` claim equal to the path's).
 */
export async function plainTenantHttp(
  request: Request,
  ns: DurableObjectNamespace<PlainTenant>,
  secret: Uint8Array,
): Promise<Response> {
  const match = /^\/plain-tenants\/([A-Za-z0-9._-]{1,128})\/tasks\/(\d{1,16})$/.exec(
    new URL(request.url).pathname,
  );
  if (!match) return Response.json({ error: { code: "NOT_FOUND", message: "no route" } }, { status: 404 });
  const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (!token) return Response.json({ error: { code: "UNAUTHORIZED", message: "token" } }, { status: 401 });
  try {
    const { payload } = await jwtVerify(token, secret, {
      algorithms: ["HS256"],
      requiredClaims: ["sub", "exp"],
    });
    if (payload.tenant !== match[1])
      return Response.json({ error: { code: "FORBIDDEN", message: "tenant" } }, { status: 403 });
  } catch {
    return Response.json({ error: { code: "UNAUTHORIZED", message: "token" } }, { status: 401 });
  }
  return Response.json(await ns.getByName(match[1]).getTask(Number(match[2])));
}
