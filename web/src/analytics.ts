// The analytics page: wires the buttons to the stream and the panels.
import { compare, refreshRealtime, showColumns, syncAll } from "./analytics-panels";
import { RUN, sendBurst } from "./analytics-stream";
import { byId, numberOf, onClick, say } from "./dom";

const sentEl = byId("sent");
let total = 0;

async function burst(n: number) {
  total += await sendBurst(n);
  await refreshRealtime();
  sentEl.dataset.total = String(total);
  say(sentEl, `${total.toLocaleString("en")} events accepted so far (us, eu, apac in turn).`, true);
}

byId("run").textContent = RUN;
onClick("burst", "sent", () => burst(numberOf("burst-size")));
onClick("sync", "compare-result", syncAll);
onClick("compare", "compare-result", compare);
onClick("columns", "columns-result", showColumns);

let stream: ReturnType<typeof setInterval> | undefined;
byId("stream").addEventListener("click", () => {
  if (stream) clearInterval(stream);
  stream = stream
    ? undefined
    : setInterval(() => burst(15).catch((e) => say(sentEl, String(e), false)), 1000);
  byId("stream").textContent = stream ? "Stop the stream" : "Start the stream";
});

setInterval(() => refreshRealtime().catch(() => {}), 2000);
refreshRealtime().catch((e) => say(sentEl, String(e), false));
