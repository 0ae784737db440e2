// The document's socket (`/documents/:doc/ws`, frames as in the actor's README): partysocket's
// reconnecting WebSocket; every frame from the actor updates the model, then `changed` redraws.
import ReconnectingWebSocket from "partysocket/ws";
import type { DocumentModel } from "./documents-model";
import type { AppliedOperation, Block, PresenceEntry } from "./documents-types";

type Frame = { type: string; data: Record<string, unknown> };

export interface SocketEvents {
  /** The blocks or peers changed (`peersOnly` when only presence did). */
  changed(peersOnly: boolean): void;
  status(text: string): void;
  /** A refusal from the actor: an `error` or `conflict` frame. */
  refused(text: string): void;
}

export class DocumentSocket {
  readonly #ws: ReconnectingWebSocket;
  #pages: Block[] = [];
  #next = 1;
  userId = "";

  constructor(
    doc: string,
    user: string,
    readonly model: DocumentModel,
    readonly events: SocketEvents,
  ) {
    const q = new URLSearchParams({ userId: user, userName: user });
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/documents/${encodeURIComponent(doc)}/ws?${q}`;
    this.#ws = new ReconnectingWebSocket(url, undefined, { maxEnqueuedMessages: 0 });
    this.#ws.addEventListener("open", () => events.status("open"));
    this.#ws.addEventListener("close", () => events.status("reconnecting"));
    this.#ws.addEventListener("message", (e) => {
      if (typeof e.data === "string") this.#receive(JSON.parse(e.data) as Frame);
    });
  }

  get open(): boolean {
    return this.#ws.readyState === 1;
  }

  /** Send a frame; false when the socket is not open (nothing is queued). */
  send(type: string, data: unknown): boolean {
    if (!this.open) return false;
    this.#ws.send(JSON.stringify({ type, data, id: this.#next++ }));
    return true;
  }

  #receive({ type, data }: Frame) {
    const m = this.model;
    switch (type) {
      case "init":
      case "refresh": {
        if (data.page === 0) this.#pages = [];
        this.#pages.push(...(data.blocks as Block[]));
        if (type === "init") {
          this.userId = data.userId as string;
          m.peers.clear();
          for (const p of data.presence as PresenceEntry[])
            if (p.userId !== this.userId) m.peers.set(p.userId, p);
        }
        if ((data.page as number) + 1 === data.pages) {
          m.reset(this.#pages, data.lsn as number);
          this.events.changed(false);
        }
        return;
      }
      case "operation":
        m.apply(data as unknown as AppliedOperation, data.userId as string);
        break;
      case "ack":
        if (data.operation) m.apply(data.operation as AppliedOperation, this.userId);
        break;
      case "undo":
      case "redo":
        m.effect(data.blocks as Block[], data.deleted as string[]);
        break;
      case "presence":
        this.#presence(data as unknown as PresenceEntry & { action: string });
        this.events.changed(true);
        return;
      case "conflict":
        this.events.refused(`${data.action} refused: ${data.reason} (block ${data.blockId})`);
        return;
      case "error":
        this.events.refused(`${data.code}: ${data.message}`);
        return;
      default:
        return;
    }
    if (typeof data.lsn === "number") m.lsn = data.lsn;
    this.events.changed(false);
  }

  #presence(p: PresenceEntry & { action: string }) {
    if (p.userId === this.userId) return;
    if (p.action === "leave") this.model.peers.delete(p.userId);
    else this.model.peers.set(p.userId, { ...this.model.peers.get(p.userId), ...p });
  }
}
