import type { Context } from "hono";
import { allow, callerOf } from "../../src/coordinator/access";
import { isKnown } from "../../src/coordinator/directory";
import { Hono } from "../../src/coordinator/hono";
import { actorStub } from "../../src/coordinator/stub";
import {
  actorName,
  integerParam,
  parseInput,
  readJson,
  requireUpgrade,
} from "../../src/coordinator/validate";
import { ActorError } from "../../src/errors";
import { type VouchedCaller, withCaller } from "../../src/rpc/caller";
import { documentNotFound } from "./errors";
import {
  branchInput,
  type CallerInput,
  grantInput,
  historyInput,
  mergeInput,
  restoreInput,
  retentionInput,
} from "./inputs";

/**
 * `/documents/:doc/...`: the CollaborativeDocument actor named `:doc`. Every route is `user`
 * (DESIGN.md §4): with AUTH_JWT_SECRET/AUTH_JWKS set a user token is needed (`?token=` on the
 * socket) and the user is its `sub` (name: its `name` claim); the admin token acts as the
 * document's admin; in development mode the user is `?userId=&userName=`. The document checks
 * its own roles (viewer, editor, admin) on every frame and method. Only the socket creates a
 * document: every other route answers 404 for an unknown one without reaching it.
 */
export const documentRoutes = new Hono<{ Bindings: Env }>();

type C = Context<{ Bindings: Env }>;

/** The socket: identity checked here (missing user → 400 before the upgrade), then vouched to the actor. */
documentRoutes.get("/:doc/ws", allow("user"), async (c) => {
  requireUpgrade(c);
  const doc = actorName(c.req.param("doc"), "document");
  const who = socketUser(c);
  return actorStub(c.env.COLLABORATIVE_DOCUMENT, doc).fetch(withCaller(c.req.raw, who));
});

// Streamed: a large document does not fit one RPC answer (32 MiB).
documentRoutes.get("/:doc/blocks", allow("user"), async (c) => {
  const body = await (await knownDocument(c)).blocksJson(httpCaller(c));
  return new Response(body, { headers: { "content-type": "application/json" } });
});

documentRoutes.get("/:doc/history", allow("user"), async (c) => {
  const q = c.req.query();
  const input = parseInput(historyInput, { limit: integerParam(q.limit), before: integerParam(q.before) });
  return c.json(await (await knownDocument(c)).operationLog(input, httpCaller(c)));
});

documentRoutes.get("/:doc/presence", allow("user"), async (c) =>
  c.json(await (await knownDocument(c)).presenceList(httpCaller(c))),
);

documentRoutes.post("/:doc/restore", allow("user"), async (c) => {
  const input = await readJson(c, restoreInput);
  return c.json(await (await knownDocument(c)).restore(input, httpCaller(c)));
});

documentRoutes.post("/:doc/branch", allow("user"), async (c) => {
  const input = await readJson(c, branchInput);
  return c.json(await (await knownDocument(c)).branchDocument(input, httpCaller(c)), 201);
});

documentRoutes.post("/:doc/merge", allow("user"), async (c) => {
  const input = await readJson(c, mergeInput);
  return c.json(await (await knownDocument(c)).mergeDocument(input, httpCaller(c)));
});

documentRoutes.post("/:doc/permissions", allow("user"), async (c) => {
  const input = await readJson(c, grantInput);
  return c.json(await (await knownDocument(c)).grant(input, httpCaller(c)));
});

documentRoutes.post("/:doc/retention", allow("user"), async (c) => {
  const input = await readJson(c, retentionInput);
  return c.json(await (await knownDocument(c)).configureRetention(input, httpCaller(c)));
});

/** The stub of an existing document, or DOCUMENT_NOT_FOUND without reaching (and so creating) it. */
async function knownDocument(c: C) {
  const doc = actorName(c.req.param("doc"), "document");
  if (!(await isKnown(c.env, "documents", doc))) throw documentNotFound(doc);
  return actorStub(c.env.COLLABORATIVE_DOCUMENT, doc);
}

/** Who an HTTP call is: the token's user, or (admin token, development mode) `?userId=` acting as admin. */
function httpCaller(c: C): CallerInput {
  const caller = callerOf(c);
  if (caller.role === "user") return { userId: caller.userId };
  return { userId: c.req.query("userId") || "admin", admin: true };
}

/** Who a socket is: the token's user and name; with the admin token or in development mode, `?userId=&userName=`. */
function socketUser(c: C): VouchedCaller {
  const caller = callerOf(c);
  if (caller.role === "user") {
    const name = caller.claims.name;
    return {
      role: "user",
      userId: caller.userId,
      name: typeof name === "string" && name ? name.slice(0, 128) : null,
    };
  }
  const userId = c.req.query("userId");
  if (!userId) throw new ActorError("VALIDATION_FAILED", "userId: required (?userId=&userName=)");
  if (userId.length > 128) throw new ActorError("VALIDATION_FAILED", "userId: at most 128 characters");
  const userName = c.req.query("userName");
  const name = userName ? userName.slice(0, 128) : null;
  // Development mode: the document decides the user's role; the admin token is the document's admin.
  return { role: caller.role === "admin" && !caller.dev ? "admin" : "user", userId, name };
}
