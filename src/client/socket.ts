import ReconnectingWebSocket from "partysocket/ws";

/**
 * The connection under connect(): partysocket's reconnecting WebSocket (`partysocket/ws`, the
 * generic one, not PartySocket's party/room URLs), which reconnects with exponential backoff until
 * closed for good. This wrapper only adapts it: calls, their bounded queue and live queries live in
 * connect(), so partysocket's own send buffer is off.
 */
export interface SocketEvents {
  open(): void;
  message(text: string): void;
  close(): void;
}

export class ReconnectingSocket {
  readonly #ws: ReconnectingWebSocket;
  #closed = false;

  constructor(
    url: string,
    events: SocketEvents,
    Ctor: new (url: string) => WebSocket,
    minDelayMs: number,
    maxDelayMs: number,
  ) {
    this.#ws = new ReconnectingWebSocket(url, undefined, {
      WebSocket: Ctor,
      // Read by partysocket before every wait: ±20% jitter, so clients dropped together (a server
      // restart) do not all come back in the same instant.
      get minReconnectionDelay() {
        return minDelayMs * (0.8 + Math.random() * 0.4);
      },
      maxReconnectionDelay: maxDelayMs,
      reconnectionDelayGrowFactor: 2,
      maxEnqueuedMessages: 0,
    });
    this.#ws.addEventListener("open", () => events.open());
    this.#ws.addEventListener("message", (event) => {
      if (typeof event.data === "string") events.message(event.data);
    });
    // partysocket reports a refused connection (Node's WebSocket fires only "error") as a close too.
    this.#ws.addEventListener("close", () => events.close());
  }

  get open(): boolean {
    return this.#ws.readyState === 1;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(text: string): boolean {
    if (!this.open) return false;
    this.#ws.send(text);
    return true;
  }

  close(): void {
    this.#closed = true;
    this.#ws.close(1000, "closed by the client");
  }
}
