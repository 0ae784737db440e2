// Real WebSocket clients of CollaborativeDocument through the coordinator, each keeping the
// document as it applies the frames it receives (so convergence can be checked).
import { exports } from "cloudflare:workers";
import { type Frame, frameInbox } from "./frame-inbox";

let seq = 0;
export const docName = (prefix: string): string => `doc-${prefix}-${Date.now()}-${seq++}`;

export type { Frame } from "./frame-inbox";
export interface LocalBlock {
  id: string;
  parentId: string | null;
  type: string;
  content: unknown;
  properties: unknown;
  position: number;
}

export const call = (path: string, init?: RequestInit) =>
  exports.default.fetch(`http://coordinator${path}`, init);

export const post = (path: string, body: unknown) =>
  call(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

export interface DocClient {
  ws: WebSocket;
  received: Frame[];
  /** The document as this client has applied it. */
  blocks: Map<string, LocalBlock>;
  lsn: number;
  send(frame: unknown): void;
  next(match?: (frame: Frame) => boolean, timeout?: number): Promise<Frame>;
  take(match: (frame: Frame) => boolean): Frame[];
  /** Sorted, comparable view of `blocks`. */
  view(): LocalBlock[];
  close(): void;
}

export const ofType = (type: string) => (f: Frame) => f?.type === type;
export const replyTo = (id: string | number) => (f: Frame) =>
  ((f?.type === "ack" ||
    f?.type === "conflict" ||
    f?.type === "synced" ||
    f?.type === "undo" ||
    f?.type === "redo") &&
    f.data?.id === id) ||
  (f?.type === "error" && f.replyTo === id);

export function sortBlocks(list: LocalBlock[]): LocalBlock[] {
  return list
    .map(({ id, parentId, type, content, properties, position }) => ({
      id,
      parentId,
      type,
      content,
      properties,
      position,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** GET /documents/:doc/blocks, comparable with a client's view. */
export async function serverBlocks(doc: string): Promise<LocalBlock[]> {
  const res = await call(`/documents/${doc}/blocks`);
  if (res.status !== 200) throw new Error(`blocks: ${res.status} ${await res.text()}`);
  return sortBlocks(((await res.json()) as { blocks: LocalBlock[] }).blocks);
}

export async function connect(
  doc: string,
  user: string,
  options: { query?: Record<string, string>; fetcher?: (req: Request) => Promise<Response> } = {},
): Promise<DocClient> {
  const params = new URLSearchParams({ userId: user, userName: user.toUpperCase(), ...options.query });
  const request = new Request(`http://coordinator/documents/${doc}/ws?${params}`, {
    headers: { Upgrade: "websocket" },
  });
  const res = await (options.fetcher ? options.fetcher(request) : exports.default.fetch(request));
  if (res.status !== 101) throw new Error(`upgrade refused: ${res.status} ${await res.text()}`);
  const ws = res.webSocket!;
  ws.accept();
  const inbox = frameInbox(user);
  const blocks = new Map<string, LocalBlock>();
  const client: DocClient = {
    ws,
    received: inbox.received,
    blocks,
    lsn: 0,
    send: (frame) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    next: inbox.next,
    take: inbox.take,
    view: () => sortBlocks([...blocks.values()]),
    close: () => ws.close(1000, "bye"),
  };
  ws.addEventListener("message", (event: MessageEvent) => {
    const frame = JSON.parse(event.data as string);
    inbox.push(frame);
    apply(client, frame);
  });
  await client.next((f) => f.type === "init" && f.data.page === f.data.pages - 1);
  return client;
}

function removeTree(blocks: Map<string, LocalBlock>, id: string): void {
  blocks.delete(id);
  for (const b of [...blocks.values()]) if (b.parentId === id) removeTree(blocks, b.id);
}

function put(blocks: Map<string, LocalBlock>, b: LocalBlock): void {
  blocks.set(b.id, {
    id: b.id,
    parentId: b.parentId,
    type: b.type,
    content: b.content,
    properties: b.properties,
    position: b.position,
  });
}

/** What a client does with each frame: the whole protocol from the receiving side. */
function apply(client: DocClient, frame: Frame): void {
  const { blocks } = client;
  const d = frame.data;
  switch (frame.type) {
    case "init":
    case "refresh":
      if (d.page === 0) blocks.clear();
      for (const b of d.blocks) put(blocks, b);
      client.lsn = d.lsn;
      return;
    case "ack":
      if (d.operation) applyOperation(blocks, d.operation);
      client.lsn = Math.max(client.lsn, d.lsn);
      return;
    case "operation":
      applyOperation(blocks, d);
      client.lsn = Math.max(client.lsn, d.lsn);
      return;
    case "undo":
    case "redo":
      for (const id of d.deleted) removeTree(blocks, id);
      for (const b of d.blocks) put(blocks, b);
      client.lsn = Math.max(client.lsn, d.lsn);
      return;
    case "synced":
      client.lsn = d.lsn;
      return;
  }
}

function applyOperation(blocks: Map<string, LocalBlock>, op: Frame): void {
  switch (op.type) {
    case "insert":
      put(blocks, {
        id: op.blockId,
        parentId: op.parentId,
        type: op.blockType,
        content: op.content,
        properties: op.properties,
        position: op.position,
      });
      return;
    case "update": {
      const b = blocks.get(op.blockId)!;
      blocks.set(op.blockId, { ...b, content: op.content, properties: op.properties, type: op.blockType });
      return;
    }
    case "delete":
      removeTree(blocks, op.blockId);
      return;
    case "move": {
      const b = blocks.get(op.blockId)!;
      blocks.set(op.blockId, { ...b, parentId: op.parentId, position: op.position });
      return;
    }
  }
}

let frameSeq = 0;
/** Send an operation and wait for its answer (ack or error). */
export async function edit(client: DocClient, data: Record<string, unknown>): Promise<Frame> {
  const id = `f${frameSeq++}`;
  client.send({ type: "operation", id, data });
  return client.next(replyTo(id));
}

/** Send a frame with an id (and `extra` fields, such as an opId) and wait for the answer to it. */
export async function ask(
  client: DocClient,
  type: string,
  data: unknown = {},
  extra: Record<string, unknown> = {},
): Promise<Frame> {
  const id = `f${frameSeq++}`;
  client.send({ type, id, data, ...extra });
  return client.next(replyTo(id));
}
