import { DurableObject } from "cloudflare:workers";
import init from "../../migrations/collaborative-document/0000_init.sql";

export { CollaborativeDocument as BenchDocument } from "../../actors/index";

// The baseline's SQL for an insert, statement for statement the actor's (same tables, same migration):
// does the block exist, does the parent, the block row, the operations row. The actor also keeps
// the history WAL of `blocks` (a trigger row per change), reads the LSN and trims the redo stack.
const EXISTS = "SELECT 1 FROM blocks WHERE id = ?";
const NEXT_POSITION = "SELECT max(position) AS p FROM blocks WHERE parent_id IS ?";
const INSERT_BLOCK = `INSERT INTO blocks (id, parent_id, type, content, properties, position, created_by, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_OP = `INSERT INTO operations (user_id, block_id, kind, op_type, op_data, before_state, after_state,
  ref_id, state, timestamp, lsn) VALUES (?, ?, 'edit', 'insert', ?, NULL, ?, NULL, 'done', ?, 0) RETURNING id`;
const BLOCK_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The baseline: a hand-written Durable Object with hibernatable WebSockets doing what the actor
 * does for an insert frame: check it, one transaction (block + operations row), the operation to
 * every other socket, an ack to the sender. No roles, presence, undo stacks or history.
 */
export class HandDocument extends DurableObject {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    this.#sql = ctx.storage.sql;
    const exists = this.#sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'blocks'").toArray().length > 0;
    if (!exists)
      ctx.storage.transactionSync(() => {
        for (const statement of init.split("--> statement-breakpoint")) this.#sql.exec(statement);
      });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  override async fetch(request: Request): Promise<Response> {
    const userId = new URL(request.url).searchParams.get("userId");
    if (!userId)
      return Response.json({ error: { code: "VALIDATION_FAILED", message: "userId" } }, { status: 400 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].serializeAttachment({ userId });
    const blocks = this.#sql.exec("SELECT * FROM blocks").toArray();
    pair[1].send(JSON.stringify({ type: "init", data: { blocks, presence: [], lsn: 0, page: 0, pages: 1 } }));
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const { userId } = ws.deserializeAttachment() as { userId: string };
    let frame: { type?: string; id?: string; data?: { type?: string; blockId?: string; content?: unknown } };
    try {
      frame = JSON.parse(message as string);
    } catch {
      ws.send(JSON.stringify({ type: "error", code: "INVALID_JSON", message: "messages must be JSON" }));
      return;
    }
    const op = frame.data;
    if (
      frame.type !== "operation" ||
      op?.type !== "insert" ||
      typeof op.blockId !== "string" ||
      !BLOCK_ID.test(op.blockId)
    ) {
      ws.send(
        JSON.stringify({ type: "error", code: "VALIDATION_FAILED", message: "bad frame", replyTo: frame.id }),
      );
      return;
    }
    const blockId = op.blockId;
    const now = Date.now();
    const outcome = this.ctx.storage.transactionSync(() => {
      if (this.#sql.exec(EXISTS, blockId).toArray().length) return null;
      const position = ((this.#sql.exec(NEXT_POSITION, null).one().p as number | null) ?? 0) + 1;
      const content = op.content === undefined ? null : JSON.stringify(op.content);
      this.#sql.exec(INSERT_BLOCK, blockId, null, "paragraph", content, null, position, userId, now, now);
      const applied = {
        type: "insert",
        blockId,
        parentId: null,
        position,
        content: op.content ?? null,
        properties: null,
        blockType: "paragraph",
      };
      const row = JSON.stringify([
        {
          id: blockId,
          parent_id: null,
          type: "paragraph",
          content,
          properties: null,
          position,
          created_by: userId,
          created_at: now,
          updated_at: now,
        },
      ]);
      const id = this.#sql.exec(INSERT_OP, userId, blockId, JSON.stringify(applied), row, now).one()
        .id as number;
      return { ...applied, userId, operationId: id, lsn: id };
    });
    if (!outcome) {
      ws.send(JSON.stringify({ type: "error", code: "BLOCK_EXISTS", message: "exists", replyTo: frame.id }));
      return;
    }
    const broadcast = JSON.stringify({ type: "operation", data: outcome });
    for (const other of this.ctx.getWebSockets())
      if (other !== ws)
        try {
          other.send(broadcast);
        } catch {}
    ws.send(
      JSON.stringify({
        type: "ack",
        data: { id: frame.id, operationId: outcome.operationId, lsn: outcome.lsn, operation: outcome },
      }),
    );
  }
}
