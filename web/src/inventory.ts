// The inventory flash sale page: wires the buttons to the three panels.
import { loadLog, slide } from "./audit";
import { checkout, stockShelves } from "./cart";
import { byId, onClick } from "./dom";
import { currentSku, runBuyers, startSale } from "./flash-sale";

const buyers = byId<HTMLInputElement>("buyers");
const label = () => {
  byId("run").textContent = `Run ${Number(buyers.value).toLocaleString("en")} buyers`;
};
buyers.addEventListener("input", label);
label();

onClick("start", "verdict", () =>
  startSale(() => {
    byId<HTMLButtonElement>("run").disabled = false;
    byId<HTMLButtonElement>("refresh-log").disabled = false;
  }),
);
onClick("run", "verdict", async () => {
  await runBuyers();
  const sku = currentSku();
  if (sku) await loadLog(sku);
});
onClick("refresh-log", "verdict", async () => {
  const sku = currentSku();
  if (sku) await loadLog(sku);
});
onClick("shelves", "verdict", async () => {
  await stockShelves();
  byId<HTMLButtonElement>("checkout").disabled = false;
});
onClick("checkout", "verdict", checkout);
byId("when").addEventListener("input", slide);
