import { sourceError } from "./errors";

/** The time one source may take, fetch and body included: SOURCE_TIMEOUT after it, naming the source. */
export class Deadline {
  readonly controller = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #expired: Promise<never>;
  #done = false;

  constructor(
    readonly ms: number,
    readonly label: string,
  ) {
    let fail: (err: unknown) => void = () => {};
    this.#expired = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.#expired.catch(() => {});
    this.#timer = setTimeout(() => {
      this.#done = true;
      fail(this.error());
      this.controller.abort();
    }, ms);
  }

  get expired(): boolean {
    return this.#done;
  }

  error(): Error {
    return sourceError("SOURCE_TIMEOUT", this.label, `not read within ${this.ms} ms`, { timeoutMs: this.ms });
  }

  /** `work`, or SOURCE_TIMEOUT when the deadline passes first. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.#expired]);
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}
