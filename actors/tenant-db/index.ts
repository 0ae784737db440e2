// `dosql-actors/actors/tenant-db`: the TenantDB actor alone (its routes are
// `dosql-actors/actors/tenant-db/routes`). Classes and types only (see actors/inventory-sku/index.ts).
export {
  type Project,
  type ProjectSummary,
  type Task,
  type TaskSummary,
  TenantDB,
  type User,
} from "./tenant-db";
