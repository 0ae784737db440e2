import { vi } from "vitest";
import { type VouchedCaller, withCaller } from "../src/rpc/index";

let seq = 0;
export const uniqueName = (prefix: string): string => `${prefix}-${Date.now()}-${seq++}`;

/** Whatever JSON the actor sent. */
export type Frame = any;

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
  const received: Frame[] = [];
  const unread: Frame[] = [];
  ws.addEventListener("message", (event: MessageEvent) => {
    const frame = typeof event.data === "string" ? JSON.parse(event.data) : event.data;
    received.push(frame);
    unread.push(frame);
  });
  let nextId = 0;
  const next = (match: (frame: Frame) => boolean = () => true, timeout = 5_000) =>
    vi.waitFor(
      () => {
        const at = unread.findIndex(match);
        if (at < 0)
          throw new Error(`no matching frame yet; unread: ${JSON.stringify(unread).slice(0, 2000)}`);
        return unread.splice(at, 1)[0];
      },
      { timeout, interval: 5 },
    );
  const send = (frame: unknown) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  return {
    ws,
    received,
    send,
    next,
    take: (match) => {
      const out: Frame[] = [];
      for (let i = 0; i < unread.length; )
        if (match(unread[i])) out.push(unread.splice(i, 1)[0]);
        else i++;
      return out;
    },
    call: (method, ...args) => {
      const id = `call-${nextId++}`;
      send({ id, method, args });
      return next((f) => f.id === id && ("result" in f || "error" in f));
    },
  };
}
