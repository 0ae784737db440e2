// The inventory flash sale page: wires the buttons to the three panels.
import { loadLog, slide } from "./audit";
import { checkout, stockShelves } from "./cart";
import { byId, say } from "./dom";
import { currentSku, runBuyers, startSale } from "./flash-sale";

/** Run a click handler with its button disabled; any failure is shown, never thrown. */
function onClick(id: string, handler: () => Promise<void>) {
  const button = byId<HTMLButtonElement>(id);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await handler();
    } catch (e) {
      say(byId("verdict"), String(e), false);
    } finally {
      button.disabled = false;
    }
  });
}

const buyers = byId<HTMLInputElement>("buyers");
const label = () => {
  byId("run").textContent = `Run ${Number(buyers.value).toLocaleString("en")} buyers`;
};
buyers.addEventListener("input", label);
label();

onClick("start", () =>
  startSale(() => {
    byId<HTMLButtonElement>("run").disabled = false;
    byId<HTMLButtonElement>("refresh-log").disabled = false;
  }),
);
onClick("run", async () => {
  await runBuyers();
  const sku = currentSku();
  if (sku) await loadLog(sku);
});
onClick("refresh-log", async () => {
  const sku = currentSku();
  if (sku) await loadLog(sku);
});
onClick("shelves", async () => {
  await stockShelves();
  byId<HTMLButtonElement>("checkout").disabled = false;
});
onClick("checkout", checkout);
byId("when").addEventListener("input", slide);
