// A misbehaving relay for fault tests only (the real relay stays the baseline): answers every
// REQ with whatever `respond` returns, raw frames included.
import { WebSocketServer, type WebSocket } from 'ws'

export interface FaultyRelay {
  url: string
  stop(): Promise<void>
}

export async function startFaultyRelay(respond: (subId: string, socket: WebSocket) => void): Promise<FaultyRelay> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  wss.on('connection', (ws) => {
    ws.on('error', () => {})
    ws.on('message', (data) => {
      let message: unknown
      try {
        message = JSON.parse(data.toString())
      } catch {
        return
      }
      if (Array.isArray(message) && message[0] === 'REQ') respond(String(message[1]), ws)
    })
  })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  const { port } = wss.address() as { port: number }
  return {
    url: `ws://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      }),
  }
}
