// The editable view of the blocks: one textarea per block (kept, not rebuilt, so typing keeps its
// focus and caret), and under a block the carets of the others whose cursor is in it.
import type { DocumentModel, Peer } from "./documents-model";
import { textOf } from "./documents-model";

export interface EditorEvents {
  text(blockId: string, text: string): void;
  cursor(blockId: string, offset: number): void;
  remove(blockId: string): void;
}

interface View {
  root: HTMLDivElement;
  area: HTMLTextAreaElement;
  carets: HTMLDivElement;
}

const COLORS = ["#c2410c", "#0f766e", "#7c3aed", "#be185d", "#15803d", "#1d4ed8"];
export const colorOf = (userId: string) =>
  COLORS[[...userId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % COLORS.length];

export class Editor {
  readonly #views = new Map<string, View>();
  /** Blocks typed in whose change is not yet sent: an incoming copy must not overwrite them. */
  readonly #dirty = new Set<string>();

  constructor(
    readonly host: HTMLElement,
    readonly model: DocumentModel,
    readonly events: EditorEvents,
  ) {}

  markSent(blockId: string) {
    this.#dirty.delete(blockId);
  }

  render() {
    const order = this.model.ordered();
    for (const [id, view] of this.#views)
      if (!this.model.blocks.has(id)) {
        view.root.remove();
        this.#views.delete(id);
      }
    order.forEach(({ block, depth }, i) => {
      const view = this.#views.get(block.id) ?? this.#create(block.id);
      view.root.style.marginLeft = `${depth * 1.2}rem`;
      const text = textOf(block);
      if (view.area.value !== text && !this.#dirty.has(block.id)) keepCaret(view.area, text);
      if (this.host.children[i] !== view.root)
        this.host.insertBefore(view.root, this.host.children[i] ?? null);
    });
    this.renderPeers();
  }

  /** The others' carets: their name at their offset in the block's text. */
  renderPeers() {
    const byBlock = new Map<string, Peer[]>();
    for (const p of this.model.peers.values())
      if (p.cursorBlockId) byBlock.set(p.cursorBlockId, [...(byBlock.get(p.cursorBlockId) ?? []), p]);
    for (const [id, view] of this.#views) {
      view.carets.replaceChildren();
      for (const p of byBlock.get(id) ?? []) {
        const line = view.carets.appendChild(document.createElement("div"));
        line.className = "caret-line";
        line.dataset.user = p.userId;
        const at = Math.min(p.cursorOffset ?? 0, view.area.value.length);
        const caret = document.createElement("span");
        caret.className = "caret";
        caret.style.borderColor = colorOf(p.userId);
        const tag = caret.appendChild(document.createElement("span"));
        tag.textContent = p.userName || p.userId;
        tag.style.background = colorOf(p.userId);
        line.appendChild(document.createTextNode(view.area.value.slice(0, at)));
        line.appendChild(caret);
        line.appendChild(document.createTextNode(view.area.value.slice(at)));
      }
    }
  }

  #create(id: string): View {
    const root = document.createElement("div");
    root.className = "block";
    root.dataset.block = id;
    const row = root.appendChild(document.createElement("div"));
    row.className = "block-row";
    const area = row.appendChild(document.createElement("textarea"));
    area.rows = 2;
    area.setAttribute("aria-label", `block ${id}`);
    const del = row.appendChild(document.createElement("button"));
    del.type = "button";
    del.className = "small";
    del.textContent = "✕";
    del.title = "delete this block";
    del.addEventListener("click", () => this.events.remove(id));
    const carets = root.appendChild(document.createElement("div"));
    carets.className = "carets";
    const cursor = () => this.events.cursor(id, area.selectionStart);
    area.addEventListener("input", () => {
      this.#dirty.add(id);
      this.events.text(id, area.value);
      cursor();
    });
    for (const e of ["focus", "click", "keyup", "select"]) area.addEventListener(e, cursor);
    const view = { root, area, carets };
    this.#views.set(id, view);
    return view;
  }
}

/** Set a textarea's text, keeping the caret where it was when it has the focus. */
function keepCaret(area: HTMLTextAreaElement, text: string) {
  const focused = document.activeElement === area;
  const [start, end] = [area.selectionStart, area.selectionEnd];
  area.value = text;
  if (focused) area.setSelectionRange(Math.min(start, text.length), Math.min(end, text.length));
}
