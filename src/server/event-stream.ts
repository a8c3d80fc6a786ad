import type { ServerResponse } from "node:http";

/** Unsent bytes an event stream may hold before its client counts as not reading. */
const MAX_UNSENT_EVENT_BYTES = 1024 * 1024;

/**
 * Writes one Server-Sent Events frame, unless the client has left more than
 * {@link MAX_UNSENT_EVENT_BYTES} of earlier frames unread: then its stream is cut (and `onDrop`
 * told), so a client that never reads cannot make the server hold every frame for it. A client
 * that was cut reconnects and hears the current bundle first.
 */
export function writeEvent(
  stream: ServerResponse,
  frame: string,
  onDrop: (unsent: number) => void,
): void {
  if (stream.destroyed) return;
  // Checked before the write: one large frame to a client that keeps up is not a backlog.
  const unsent = stream.writableLength;
  if (unsent > MAX_UNSENT_EVENT_BYTES) {
    stream.destroy();
    onDrop(unsent);
    return;
  }
  stream.write(frame);
}
