// The collaborative document page: the document named by `?doc=` (a new one otherwise) as the user
// `?user=` (a random one otherwise), live over its socket; history, restore, branch and merge.
import { Editor } from "./documents-editor";
import { branch, loadHistory, merge, preview, restore } from "./documents-history";
import { DocumentModel } from "./documents-model";
import { DocumentSocket } from "./documents-socket";
import { byId, onClick as onButton, say } from "./dom";

const random = () => Math.random().toString(36).slice(2, 8);
const params = new URLSearchParams(location.search);
const doc = params.get("doc") || `doc-${random()}`;
const user = params.get("user") || `user-${random()}`;
params.set("doc", doc);
history.replaceState(null, "", `?${params}`);

byId("doc-name").textContent = doc;
byId("user-name").textContent = user;
byId<HTMLAnchorElement>("second").href = `?doc=${encodeURIComponent(doc)}`;
byId<HTMLInputElement>("branch-name").value = `${doc}-draft`;
const status = byId("status");

const model = new DocumentModel();
const pending = new Map<string, number>();
const editor: Editor = new Editor(byId("blocks"), model, {
  text(blockId, text) {
    // One update per pause in typing (150 ms), not one per key.
    clearTimeout(pending.get(blockId));
    pending.set(
      blockId,
      window.setTimeout(() => {
        pending.delete(blockId);
        editor.markSent(blockId);
        socket.send("operation", { type: "update", blockId, content: { text } });
      }, 150),
    );
  },
  cursor: (blockId, offset) => socket.send("presence", { cursorBlockId: blockId, cursorOffset: offset }),
  remove: (blockId) => socket.send("operation", { type: "delete", blockId }),
});

const socket = new DocumentSocket(doc, user, model, {
  changed(peersOnly) {
    if (peersOnly) editor.renderPeers();
    else editor.render();
    byId("lsn").textContent = String(model.lsn);
    const here = [...model.peers.values()].map((p) => p.userName || p.userId);
    byId("presence").textContent = [`${user} (you)`, ...here].join(", ");
  },
  status(text) {
    byId("socket").textContent = text;
    for (const id of ["add", "undo", "redo", "load-history", "branch", "merge"])
      byId<HTMLButtonElement>(id).disabled = text !== "open";
  },
  refused: (text) => say(status, text, false),
});

/** The page's buttons report failures in the status line unless told otherwise. */
const onClick = (id: string, handler: () => unknown, out: HTMLElement = status) => onButton(id, out, handler);

onClick("add", () => {
  const blockId = `b-${Date.now().toString(36)}-${random()}`;
  socket.send("operation", { type: "insert", blockId, blockType: "paragraph", content: { text: "" } });
  say(status, "");
});
onClick("undo", () => socket.send("undo", {}) && say(status, ""));
onClick("redo", () => socket.send("redo", {}) && say(status, ""));
onClick("load-history", () => loadHistory(doc), byId("branch-result"));
byId("when").addEventListener("input", preview);
onClick(
  "restore",
  async () => {
    await restore();
    await loadHistory(doc);
  },
  byId("branch-result"),
);
onClick(
  "branch",
  async () => {
    const name = await branch(byId<HTMLInputElement>("branch-name").value);
    const link = byId<HTMLAnchorElement>("branch-link");
    link.href = `?doc=${encodeURIComponent(name)}`;
    link.hidden = false;
    say(byId("branch-result"), `branch ${name} created: edit it, then merge it back here`, true);
  },
  byId("branch-result"),
);
onClick(
  "merge",
  async () => {
    const name = byId<HTMLInputElement>("branch-name").value;
    say(
      byId("branch-result"),
      await merge(name, byId<HTMLInputElement>("on-conflict").value /* a <select>: same `value` */),
      true,
    );
  },
  byId("branch-result"),
);
