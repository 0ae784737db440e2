// The frames a test's WebSocket received, with the two ways tests read them.
import { vi } from "vitest";

/** Whatever JSON the actor sent. */
export type Frame = any;

export interface FrameInbox {
  /** Every frame received so far, read or not. */
  received: Frame[];
  /** Record a frame as received (and unread). */
  push(frame: Frame): void;
  /** The first unread frame matching `match` (waits for it), marked read. */
  next(match?: (frame: Frame) => boolean, timeout?: number): Promise<Frame>;
  /** Unread frames matching `match`, marked read. */
  take(match: (frame: Frame) => boolean): Frame[];
}

/** `who` names the socket in the error of a `next` that timed out. */
export function frameInbox(who = "socket"): FrameInbox {
  const received: Frame[] = [];
  const unread: Frame[] = [];
  return {
    received,
    push(frame) {
      received.push(frame);
      unread.push(frame);
    },
    next: (match = () => true, timeout = 5_000) =>
      vi.waitFor(
        () => {
          const at = unread.findIndex(match);
          if (at < 0)
            throw new Error(
              `${who}: no matching frame yet; unread: ${JSON.stringify(unread).slice(0, 2000)}`,
            );
          return unread.splice(at, 1)[0];
        },
        { timeout, interval: 5 },
      ),
    take: (match) => {
      const out: Frame[] = [];
      for (let i = 0; i < unread.length; )
        if (match(unread[i])) out.push(unread.splice(i, 1)[0]);
        else i++;
      return out;
    },
  };
}
