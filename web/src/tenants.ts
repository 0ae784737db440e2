// The tenants page: two tenants side by side, a cross-tenant read that finds nothing, how tokens
// work on this server, and the fleet of every tenant with its schema version.
import { ApiError } from "./api";
import { byId, fillTable, onClick, say } from "./dom";
import { call } from "./tenants-api";

interface Task {
  id: number;
  title: string;
  status: string;
  assignee_name: string | null;
  project_name: string;
}
interface FleetEntry {
  name: string;
  version: string | null;
  bytes: number;
  lastSeen: number;
}

const tag = Math.random().toString(36).slice(2, 7);
const tenants = { a: `acme-${tag}`, b: `globex-${tag}` } as const;
type Who = keyof typeof tenants;
const TASKS: Record<Who, string[]> = {
  a: ["Launch the spring sale", "Fix checkout on Safari", "Hire a designer"],
  b: ["Ship the quarterly report"],
};

async function createTenant(who: Who) {
  const base = `/tenants/${tenants[who]}`;
  const owner = await call<{ id: number }>(who, "POST", `${base}/users`, {
    email: "owner@example.com",
    name: who === "a" ? "Ada (Acme)" : "Grace (Globex)",
    role: "owner",
  });
  const project = await call<{ id: number }>(who, "POST", `${base}/projects`, {
    name: who === "a" ? "Spring" : "Finance",
    owner_id: owner.id,
  });
  for (const [i, title] of TASKS[who].entries())
    await call(who, "POST", `${base}/tasks`, {
      project_id: project.id,
      title,
      assignee_id: owner.id,
      priority: 3 - i,
    });
  await showTasks(who);
}

async function showTasks(who: Who) {
  const { tasks } = await call<{ tasks: Task[] }>(who, "GET", `/tenants/${tenants[who]}/tasks`);
  fillTable(
    byId(`tasks-${who}`),
    ["id", "title", "project", "assignee", "status"],
    tasks.map((t) => [t.id, t.title, t.project_name, t.assignee_name, t.status]),
  );
  byId(`tasks-${who}`).dataset.count = String(tasks.length);
}

async function create() {
  await Promise.all([createTenant("a"), createTenant("b")]);
  say(
    byId("create-result"),
    `${tenants.a}: 3 tasks; ${tenants.b}: 1 task; both owners are owner@example.com.`,
    true,
  );
  byId<HTMLButtonElement>("isolation").disabled = false;
}

async function isolation() {
  const el = byId("isolation-result");
  try {
    const task = await call<Task>("b", "GET", `/tenants/${tenants.b}/tasks/3`);
    el.dataset.code = "FOUND";
    say(el, `Tenant B answered a task 3: ${task.title} (isolation broken)`, false);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    el.dataset.code = e.code;
    say(
      el,
      `${e.status} ${e.code}: tenant B's database has no task 3, though tenant A's has one.`,
      e.code === "TASK_NOT_FOUND",
    );
  }
}

async function fleet() {
  delete byId("fleet-result").dataset.found;
  const { actors, total } = await call<{ actors: FleetEntry[]; total: number }>(
    "admin",
    "GET",
    "/admin/fleet/tenants?limit=500",
  );
  const ours = new Set<string>(Object.values(tenants));
  fillTable(
    byId("fleet-table"),
    ["tenant", "schema version", "bytes", "last seen"],
    actors.map((a) => [
      ours.has(a.name) ? `${a.name} (this page)` : a.name,
      a.version,
      a.bytes,
      new Date(a.lastSeen).toLocaleTimeString([], { hour12: false }),
    ]),
  );
  const found = actors.filter((a) => ours.has(a.name)).length;
  const versions = [...new Set(actors.map((a) => a.version ?? "none"))];
  const el = byId("fleet-result");
  el.dataset.found = String(found);
  say(
    el,
    `${total} tenant(s) in the fleet, ${found} of this page's; schema version${versions.length > 1 ? "s" : ""} ${versions.join(", ")}.`,
    true,
  );
}

/** Whether the server is open: the fleet (an admin route) answers a request without a token only in development mode. */
async function mode() {
  const el = byId("mode");
  const res = await fetch("/admin/fleet/tenants?limit=1");
  const open = res.ok;
  el.dataset.mode = open ? "development" : "secured";
  el.textContent = open
    ? "This server runs in development mode (none of AUTH_JWT_SECRET, AUTH_JWKS, ADMIN_TOKEN is set): every route is open and no token is checked: this page sends none unless you paste one below, and even then this server would not verify it."
    : `This server is secured: an admin route without a token answered ${res.status}. Paste tokens below before creating the tenants.`;
}

byId("name-a").textContent = tenants.a;
byId("name-b").textContent = tenants.b;
byId("title-a").textContent = `${tenants.a}'s tasks`;
byId("title-b").textContent = `${tenants.b}'s tasks`;
onClick("create", "create-result", create);
onClick("isolation", "isolation-result", isolation);
onClick("fleet", "fleet-result", fleet);
mode().catch((e) => say(byId("mode"), String(e), false));
