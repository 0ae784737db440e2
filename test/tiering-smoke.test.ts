import { env, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { DAY, T0 } from "./fixtures/tiered";

it("smoke", async () => {
  const stub = env.TIERED.getByName("smoke-1");
  await stub.seedReadings(50_000, T0, 3 * DAY);
  await stub.seedReadings(500, T0 + 3 * DAY, DAY / 2, 100_000);
  const before = await stub.query("SELECT count(*) n, sum(value) s FROM readings WHERE ts < ?", [
    T0 + 3 * DAY,
  ]);
  let t = Date.now();
  const res = await stub.archiveReadings(T0 + 3 * DAY);
  console.log("archive ms", Date.now() - t, res.rows, res.files);
  t = Date.now();
  const cold = await runInDurableObject(stub, (a) =>
    a.query("SELECT count(*) n, sum(value) s FROM 'r2://ARCHIVE/archive/smoke-1/readings/*.parquet'"),
  );
  console.log("cold ms", Date.now() - t, cold, before);
  const man = await runInDurableObject(stub, (a) => a.tiering.manifest());
  console.log(man.map((m) => [m.key, m.rows, m.bytes]));
  const plan = await runInDurableObject(stub, (a) =>
    a.tiering.explain(
      "SELECT * FROM 'r2://ARCHIVE/archive/smoke-1/readings/*.parquet' WHERE ts >= ? AND ts < ?",
      [T0 + DAY, T0 + DAY + 3600_000],
    ),
  );
  console.log(plan);
  expect(cold).toEqual(before);
});
