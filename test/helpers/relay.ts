// Real relays for tests and the benchmark: @nostr-relay/core (a third-party NIP-01 relay) with
// its SQLite store, served over `ws` on a free loopback port. Also the two kinds of dead relay:
// a port where nothing listens, and a black hole that accepts TCP and never speaks.

import { mkdtempSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LogLevel } from '@nostr-relay/common'
import { NostrRelay } from '@nostr-relay/core'
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite'
import { Validator } from '@nostr-relay/validator'
import { WebSocketServer } from 'ws'

export interface TestRelay {
  url: string
  port: number
  /** stops serving; the stored events are kept for start() */
  stop(): Promise<void>
  /** serves again on the same port with the same events */
  start(): Promise<void>
}

/** `dbFile`: serve the events of this SQLite database (the benchmark seeds one with thousands). */
export async function startRelay(opts: { port?: number; auth?: boolean; dbFile?: string } = {}): Promise<TestRelay> {
  const dbFile = opts.dbFile ?? join(mkdtempSync(join(tmpdir(), 'p2p-relay-')), 'events.db')
  const port = opts.port ?? (await freePort())
  let stopServing: (() => Promise<void>) | undefined

  const start = async () => {
    const repo = new EventRepositorySqlite(dbFile)
    await repo.init()
    const relay = new NostrRelay(repo, {
      filterResultCacheTtl: 0,
      logLevel: LogLevel.ERROR,
      ...(opts.auth ? { hostname: '127.0.0.1' } : {}),
    })
    const validator = new Validator()
    const wss = new WebSocketServer({ host: '127.0.0.1', port })
    wss.on('connection', (ws, req) => {
      relay.handleConnection(ws, req.socket.remoteAddress)
      ws.on('message', async (data) => {
        try {
          const message = await validator.validateIncomingMessage(data)
          await relay.handleMessage(ws, message)
        } catch (err) {
          ws.send(JSON.stringify(['NOTICE', (err as Error).message]))
        }
      })
      ws.on('close', () => relay.handleDisconnect(ws))
      ws.on('error', () => {})
    })
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve)
      wss.once('error', reject)
    })
    stopServing = async () => {
      for (const client of wss.clients) client.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await relay.destroy()
      await repo.destroy()
    }
  }
  await start()
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    start,
    async stop() {
      await stopServing?.()
      stopServing = undefined
    },
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A URL where nothing listens: connecting is refused at once. */
export async function deadRelayUrl(): Promise<string> {
  return `ws://127.0.0.1:${await freePort()}`
}

/** A TCP server that accepts connections and never answers: the WebSocket handshake hangs. */
export async function startBlackHole(): Promise<{ url: string; stop(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `ws://127.0.0.1:${port}`,
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
