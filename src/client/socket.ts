/**
 * A WebSocket that reconnects with exponential backoff and jitter until closed for good. Kept
 * small on purpose (the whole client stays well under 10 KiB gzip): it only reconnects and
 * reports; calls, queueing and live queries live in connect().
 */
export interface SocketEvents {
  open(): void;
  message(text: string): void;
  close(): void;
}

export class ReconnectingSocket {
  #ws: WebSocket | undefined;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    readonly url: string,
    readonly events: SocketEvents,
    readonly Ctor: new (url: string) => WebSocket,
    readonly minDelayMs: number,
    readonly maxDelayMs: number,
  ) {
    this.#open();
  }

  get open(): boolean {
    return this.#ws?.readyState === 1;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(text: string): boolean {
    if (!this.open) return false;
    this.#ws!.send(text);
    return true;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#ws?.close(1000, "closed by the client");
  }

  #open(): void {
    let ws: WebSocket;
    try {
      ws = new this.Ctor(this.url);
    } catch {
      this.#retry();
      return;
    }
    this.#ws = ws;
    ws.addEventListener("open", () => {
      this.#attempt = 0;
      this.events.open();
    });
    ws.addEventListener("message", (event) => {
      if (typeof event.data === "string") this.events.message(event.data);
    });
    // Node's WebSocket reports a refused connection with "error" and no "close": either one ends it.
    const lost = () => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      try {
        ws.close();
      } catch {}
      this.events.close();
      this.#retry();
    };
    ws.addEventListener("close", lost);
    ws.addEventListener("error", lost);
  }

  #retry(): void {
    if (this.#closed) return;
    const base = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.#attempt++);
    this.#timer = setTimeout(() => this.#open(), base * (0.8 + Math.random() * 0.4));
  }
}
