// A misbehaving relay for fault tests only (the real relay stays the baseline). By default it
// answers every REQ with EOSE and every EVENT with OK, storing nothing; a test overrides
// either to misbehave.
import { type WebSocket, WebSocketServer } from 'ws'

export interface FaultyRelay {
  url: string
  /** the close code of each connection that ended, as this end saw it (1006: no close frame) */
  closeCodes: number[]
  stop(): Promise<void>
}

export interface Misbehaviour {
  onReq?: (subId: string, socket: WebSocket, filters: Array<{ limit?: number }>) => void
  onEvent?: (event: { id: string }, socket: WebSocket) => void
  /** each new connection, before anything is read from it */
  onConnection?: (socket: WebSocket) => void
}

export async function startFaultyRelay(behaviour: Misbehaviour | NonNullable<Misbehaviour['onReq']>): Promise<FaultyRelay> {
  const { onReq = eose, onEvent = ok, onConnection } = typeof behaviour === 'function' ? { onReq: behaviour } : behaviour
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  const closeCodes: number[] = []
  wss.on('connection', (ws) => {
    ws.on('error', () => {})
    ws.on('close', (code) => closeCodes.push(code))
    onConnection?.(ws)
    ws.on('message', (data) => {
      let message: unknown
      try {
        message = JSON.parse(data.toString())
      } catch {
        return
      }
      if (!Array.isArray(message)) return
      if (message[0] === 'REQ') onReq(String(message[1]), ws, message.slice(2))
      if (message[0] === 'EVENT') onEvent(message[1], ws)
    })
  })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  const { port } = wss.address() as { port: number }
  return {
    url: `ws://127.0.0.1:${port}`,
    closeCodes,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      }),
  }
}

const eose = (subId: string, ws: WebSocket) => ws.send(JSON.stringify(['EOSE', subId]))
const ok = (event: { id: string }, ws: WebSocket) => ws.send(JSON.stringify(['OK', event.id, true, '']))
