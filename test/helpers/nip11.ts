// A test relay's HTTP side: its NIP-11 document for `Accept: application/nostr+json`, as the
// relay it stands for serves one (426 otherwise, as `ws` answers a request that is not an
// upgrade), and the WebSocket server on the same port; over TLS when given a key and certificate.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import { WebSocketServer } from 'ws'

export interface Listening {
  wss: WebSocketServer
  close(): Promise<void>
}

/** PEM key and certificate (chain) a relay serves TLS with */
export interface TlsIdentity {
  key: string
  cert: string
}

export async function listenRelay(port: number, info: Record<string, unknown>, maxPayload?: number, tls?: TlsIdentity): Promise<Listening> {
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.accept !== 'application/nostr+json') return void res.writeHead(426).end()
    res.writeHead(200, { 'Content-Type': 'application/nostr+json', 'Access-Control-Allow-Origin': '*' }).end(JSON.stringify(info))
  }
  const server = tls ? createTlsServer(tls, answer) : createServer(answer)
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
