// A test relay's HTTP side: its NIP-11 document for `Accept: application/nostr+json`, as the
// relay it stands for serves one (426 otherwise, as `ws` answers a request that is not an
// upgrade), and the WebSocket server on the same port.
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'

export interface Listening {
  wss: WebSocketServer
  close(): Promise<void>
}

export async function listenRelay(port: number, info: Record<string, unknown>, maxPayload?: number): Promise<Listening> {
  const server = createServer((req, res) => {
    if (req.headers.accept !== 'application/nostr+json') return void res.writeHead(426).end()
    res.writeHead(200, { 'Content-Type': 'application/nostr+json', 'Access-Control-Allow-Origin': '*' }).end(JSON.stringify(info))
  })
  const wss = new WebSocketServer({ server, ...(maxPayload ? { maxPayload } : {}) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  return {
    wss,
    async close() {
      for (const c of wss.clients) c.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
