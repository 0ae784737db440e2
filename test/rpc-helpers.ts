import { type VouchedCaller, withCaller } from "../src/rpc/index";
import { type Frame, frameInbox } from "./frame-inbox";

let seq = 0;
export const uniqueName = (prefix: string): string => `${prefix}-${Date.now()}-${seq++}`;

export type { Frame } from "./frame-inbox";

/** A real WebSocket to an actor, collecting the frames it receives. */
export interface RpcSocket {
  ws: WebSocket;
  received: Frame[];
  send(frame: unknown): void;
  /** Send `{ id, method, args }` and wait for the answer with that id. */
  call(method: string, ...args: unknown[]): Promise<Frame>;
  /** The first unread frame matching `match` (waits for it), marked read. */
  next(match?: (frame: Frame) => boolean, timeout?: number): Promise<Frame>;
  /** Unread frames matching `match`, marked read. */
  take(match: (frame: Frame) => boolean): Frame[];
}

export async function openSocket(
  stub: { fetch(request: Request): Promise<Response> },
  options: { id?: string; caller?: VouchedCaller; query?: Record<string, string> } = {},
): Promise<RpcSocket> {
  const params = new URLSearchParams({ _pk: options.id ?? uniqueName("c"), ...options.query });
  let request = new Request(`http://actor/ws?${params}`, { headers: { Upgrade: "websocket" } });
  if (options.caller) request = withCaller(request, options.caller);
  const res = await stub.fetch(request);
  if (res.status !== 101) throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
  const ws = res.webSocket!;
  ws.accept();
  const inbox = frameInbox();
  ws.addEventListener("message", (event: MessageEvent) => {
    inbox.push(typeof event.data === "string" ? JSON.parse(event.data) : event.data);
  });
  let nextId = 0;
  const { received, next, take } = inbox;
  const send = (frame: unknown) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  return {
    ws,
    received,
    send,
    next,
    take,
    call: (method, ...args) => {
      const id = `call-${nextId++}`;
      send({ id, method, args });
      return next((f) => f.id === id && ("result" in f || "error" in f));
    },
  };
}
