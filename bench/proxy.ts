// A TCP proxy in front of a relay that holds every chunk for `delayMs` each way, as a distant
// relay would: a command's extra time through it, over the same proxy at 0 ms, counts the round
// trips it stands on (issue 25). The delay can change between runs, so that set-up runs go at
// 0 ms through the same URL (an agent keeps its cursors and a relay's health by URL). Accepting
// and connecting are local: TCP and TLS handshakes are not in its numbers.
import { connect, createServer, type Socket } from 'node:net'
import { freePort } from '../test/helpers/relay.ts'

export interface LatencyProxy {
  /** ws:// URL of the proxy */
  url: string
  /** what each chunk waits, each way, from now on */
  delayMs: number
  stop(): Promise<void>
}

/** A proxy on a free port to `target` (ws://host:port), which need not listen yet. */
export async function startProxy(target: string): Promise<LatencyProxy> {
  const upstream = new URL(target)
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const relay = connect(Number(upstream.port), upstream.hostname)
    pipe(client, relay)
    pipe(relay, client)
  })
  const proxy: LatencyProxy = {
    url: '',
    delayMs: 0,
    stop: () => {
      for (const s of sockets) s.destroy()
      return new Promise((done) => server.close(() => done()))
    },
  }
  /** `from`'s bytes, its end and its failure reach `to` `delayMs` later, in order */
  function pipe(from: Socket, to: Socket): void {
    sockets.add(from)
    const later = (act: () => void) => (proxy.delayMs > 0 ? setTimeout(act, proxy.delayMs) : act())
    from.on('data', (chunk) => later(() => to.write(chunk)))
    from.on('end', () => later(() => to.end()))
    from.on('error', () => later(() => to.destroy()))
    from.on('close', () => sockets.delete(from))
  }
  const port = await freePort()
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done))
  proxy.url = `ws://127.0.0.1:${port}`
  return proxy
}
