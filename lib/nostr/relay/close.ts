// Ending a relay connection without waiting for the relay's answer. A WebSocket close frame
// tells the relay we are done (relays log a dropped TCP connection as abnormal, 1006); the
// closing handshake would then hold the process a round trip for the relay's own close frame,
// at the end of every command. ws has no way to leave without it (ws 8.23 lib/websocket.js
// close(): the frame is written at once, then the socket stays open for the answer until
// `closeTimeout`), so once the frame is written our side of the TCP connection ends (FIN after
// the frame) and neither the socket nor that timer keeps the process alive.
import type WebSocket from 'ws'

/** ws's own fields (lib/websocket.js): the TCP socket, and the timer that destroys it */
interface WsInternals {
  _socket?: { end(): void; unref(): void } | null
  _closeTimer?: NodeJS.Timeout | null
}

/** RFC 6455 close code: the connection did what it was for. */
const NORMAL_CLOSURE = 1000

export function closeWithoutWaiting(ws: WebSocket, code = NORMAL_CLOSURE): void {
  ws.close(code)
  const inner = ws as unknown as WsInternals
  inner._socket?.end()
  inner._socket?.unref()
  inner._closeTimer?.unref()
}
