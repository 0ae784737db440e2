import { describe, expect, it } from "vitest";
import type { WatchedPage } from "./browser";
import { useSession } from "./server";

const s = useSession(1);

/** The text of every block textarea, in order. */
const texts = (p: WatchedPage) =>
  p.locator("#blocks textarea").evaluateAll((as) => as.map((a) => (a as HTMLTextAreaElement).value));

async function until(p: WatchedPage, check: () => Promise<boolean>, what: string, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await p.waitForTimeout(50);
  }
}

describe("collaborative document page in Chromium against wrangler dev", () => {
  it("two windows edit one document: each sees the other's edit and cursor; undo, history, branch, merge", async () => {
    const doc = `doc-${Date.now().toString(36)}`;
    const [ca, cb] = await Promise.all([s.context(), s.context()]);
    const alice = await s.open(ca, `/demos/documents?doc=${doc}&user=alice`);
    const bob = await s.open(cb, `/demos/documents?doc=${doc}&user=bob`);
    const pages = [alice, bob];
    for (const p of pages)
      await p.waitForFunction(() => document.querySelector("#socket")?.textContent === "open");

    // Alice adds a paragraph and types; Bob's window shows it.
    await alice.click("#add");
    await alice.locator("#blocks textarea").first().waitFor();
    await alice.locator("#blocks textarea").first().pressSequentially("hello from alice", { delay: 5 });
    await until(bob, async () => (await texts(bob)).join() === "hello from alice", "bob to see alice's text");
    // Bob sees Alice's caret in the block, with her name, and both see each other as here.
    await bob.locator('.caret-line[data-user="alice"]').waitFor();
    expect(await bob.textContent('.caret-line[data-user="alice"]')).toContain("alice");
    expect(await alice.textContent("#presence")).toContain("bob");

    // Bob adds a second paragraph; Alice's window shows it.
    await bob.click("#add");
    await bob.locator("#blocks textarea").nth(1).waitFor();
    await bob.locator("#blocks textarea").nth(1).pressSequentially("and bob", { delay: 5 });
    await until(
      alice,
      async () => (await texts(alice)).join("|") === "hello from alice|and bob",
      "alice to see bob",
    );

    // Bob's undo reverts his own last edit (the text), in both windows.
    await bob.waitForTimeout(250); // his typing sent
    await bob.click("#undo");
    await until(
      alice,
      async () => (await texts(alice)).join("|") === "hello from alice|",
      "bob's undo at alice's",
    );
    await until(bob, async () => (await texts(bob)).join("|") === "hello from alice|", "bob's undo at bob's");
    await bob.click("#redo");
    await until(
      alice,
      async () => (await texts(alice)).join("|") === "hello from alice|and bob",
      "bob's redo",
    );

    // History: the slider at the first change previews alice's empty paragraph only.
    await alice.click("#load-history");
    await alice.locator("#history-table tbody tr").first().waitFor();
    const changes = await alice.locator("#history-table tbody tr").count();
    expect(changes).toBeGreaterThanOrEqual(5); // 2 inserts, ≥1 update each, undo, redo
    await alice.locator("#when").fill("1");
    expect(await alice.locator("#preview p").allTextContents()).toEqual(["(empty)"]);
    await alice.locator("#when").fill(String(changes));
    expect(await alice.locator("#preview p").allTextContents()).toEqual(["hello from alice", "and bob"]);

    // Branch, edit the branch's copy over its own socket, merge it back: both windows follow.
    await alice.click("#branch");
    await alice.waitForFunction(() =>
      document.querySelector("#branch-result")?.textContent?.includes("created"),
    );
    const draft = await s.open(ca, `/demos/documents?doc=${doc}-draft&user=alice`);
    pages.push(draft);
    await until(draft, async () => (await texts(draft)).length === 2, "the branch's copy");
    await draft.locator("#blocks textarea").first().fill("hello from the draft");
    await draft.waitForTimeout(400);
    await alice.click("#merge");
    await alice.waitForFunction(() =>
      document.querySelector("#branch-result")?.textContent?.includes("merged"),
    );
    await until(bob, async () => (await texts(bob))[0] === "hello from the draft", "the merge at bob's");

    // Restore to before the merge: the slider one step back, then restore; both windows follow.
    await alice.click("#load-history");
    await alice.waitForFunction(
      (n) => document.querySelectorAll("#history-table tbody tr").length > n,
      changes,
    );
    const all = await alice.locator("#history-table tbody tr").count();
    await alice.locator("#when").fill(String(all - 1));
    await alice.click("#restore");
    await alice.waitForFunction(() =>
      document.querySelector("#branch-result")?.textContent?.includes("restored"),
    );
    await until(bob, async () => (await texts(bob))[0] === "hello from alice", "the restore at bob's");
    for (const p of pages) expect(p.problems).toEqual([]);
  });
});
