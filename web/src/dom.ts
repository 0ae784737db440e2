// The few DOM helpers the pages share.
import { ApiError } from "./api";

export const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`no element #${id}`);
  return found as T;
};

export const numberOf = (id: string): number => Number(byId<HTMLInputElement>(id).value);

/** Fill a table: one header row, then one row per record (text only, never HTML). */
export function fillTable(table: HTMLTableElement, columns: string[], rows: (string | number | null)[][]) {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const c of columns) head.appendChild(document.createElement("th")).textContent = c;
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const cell of row) tr.insertCell().textContent = cell === null ? "" : String(cell);
  }
}

/** Show a message in `el`, styled as good news or bad. */
export function say(el: HTMLElement, text: string, ok: boolean | undefined = undefined) {
  el.textContent = text;
  el.classList.toggle("ok", ok === true);
  el.classList.toggle("bad", ok === false);
}

export const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour12: false });

/**
 * Run a click handler with its button disabled while it runs; any failure is shown in `out`
 * (an API error as `CODE: message`), never thrown.
 */
export function onClick(id: string, out: HTMLElement | string, handler: () => Promise<unknown> | unknown) {
  const button = byId<HTMLButtonElement>(id);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await handler();
    } catch (e) {
      const target = typeof out === "string" ? byId(out) : out;
      say(target, e instanceof ApiError ? `${e.code}: ${e.message}` : String(e), false);
    } finally {
      button.disabled = false;
    }
  });
}
