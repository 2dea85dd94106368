// A relay in front of a real one (relay.ts): it forwards every message both ways, except the
// EVENTs its policy stops, which it refuses with a chosen reason (as a relay's write policy
// does), rate-limits per connection, or holds without ever answering (a publish that a kill
// cuts short). The policy can change while a test runs.
import { spawn } from 'node:child_process'
import WebSocket, { WebSocketServer } from 'ws'
import { GIFT_WRAP_KIND } from '../../lib/nostr/kinds.ts'
import { CLI, HERMETIC } from './cli.ts'

export interface WireEvent {
  id: string
  kind: number
  tags: string[][]
}

export type Verdict = 'forward' | 'hold' | { refuse: string }
/** Decides one EVENT; `conn` is the same object for every message of one client connection. */
export type Policy = (event: WireEvent, conn: object) => Verdict

export interface GateRelay {
  url: string
  policy: Policy
  /** every EVENT received, with what was done with it */
  seen: Array<{ event: WireEvent; verdict: Verdict }>
  /** resolves at the next EVENT of this kind */
  next(kind: number): Promise<WireEvent>
  stop(): Promise<void>
}

export const forwardAll: Policy = () => 'forward'

/** Refuses events of `kind` with `reason`, forwards the rest. */
export const refuseKind =
  (kind: number, reason: string): Policy =>
  (event) =>
    event.kind === kind ? { refuse: reason } : 'forward'

/** Holds events of `kind` (no OK, nothing stored), forwards the rest. */
export const holdKind =
  (kind: number): Policy =>
  (event) =>
    event.kind === kind ? 'hold' : 'forward'

/** A write rate limit per connection, as khatru's: `perSecond` events, in bursts of `burst`. */
export function rateLimit(perSecond: number, burst = perSecond): Policy {
  const buckets = new WeakMap<object, { tokens: number; at: number }>()
  return (_event, conn) => {
    const now = Date.now()
    const b = buckets.get(conn) ?? { tokens: burst, at: now }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond)
    b.at = now
    buckets.set(conn, b)
    if (b.tokens < 1) return { refuse: 'rate-limited: slow down, you are writing too fast' }
    b.tokens -= 1
    return 'forward'
  }
}

export async function startGate(upstream: string, policy: Policy = forwardAll): Promise<GateRelay> {
  const waiters: Array<{ kind: number; resolve: (e: WireEvent) => void }> = []
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  const gate: GateRelay = {
    url: '',
    policy,
    seen: [],
    next: (kind) => new Promise((resolve) => waiters.push({ kind, resolve })),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      }),
  }
  wss.on('connection', (client) => {
    const conn = {}
    const up = new WebSocket(upstream)
    const pending: string[] = []
    up.on('open', () => {
      for (const m of pending.splice(0)) up.send(m)
    })
    up.on('message', (data) => client.readyState === WebSocket.OPEN && client.send(data.toString()))
    up.on('close', () => client.terminate())
    up.on('error', () => client.terminate())
    client.on('close', () => up.terminate())
    client.on('error', () => {})
    client.on('message', (data) => {
      const text = data.toString()
      let message: unknown
      try {
        message = JSON.parse(text)
      } catch {
        message = undefined
      }
      if (Array.isArray(message) && message[0] === 'EVENT') {
        const event = message[1] as WireEvent
        const verdict = gate.policy(event, conn)
        gate.seen.push({ event, verdict })
        for (const w of waiters.filter((w) => w.kind === event.kind)) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(event)
        }
        if (verdict === 'hold') return
        if (verdict !== 'forward') return void client.send(JSON.stringify(['OK', event.id, false, verdict.refuse]))
      }
      if (up.readyState === WebSocket.OPEN) up.send(text)
      else pending.push(text)
    })
  })
  await new Promise<void>((resolve) => wss.once('listening', resolve))
  gate.url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`
  return gate
}

/** Runs the CLI and SIGKILLs it as soon as `gate` receives an event of `kind` from it. */
export async function killWhilePublishing(
  home: string,
  relays: string[],
  args: string[],
  gate: GateRelay,
  kind = GIFT_WRAP_KIND,
): Promise<number | null> {
  const child = spawn(process.execPath, [CLI, ...args, '--timeout', '15000'], {
    env: { ...HERMETIC, PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', P2P_HOME: home, P2P_RELAYS: relays.join(',') },
    stdio: 'ignore',
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  await Promise.race([gate.next(kind), exited])
  child.kill('SIGKILL')
  return exited
}
