// A bare NIP-01 client over `ws` for relay tests: every frame kept, and waits for the ones asked for.
import { makeAuthEvent } from 'nostr-tools/nip42'
import { type Event, type EventTemplate, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import WebSocket from 'ws'

export interface RawClient {
  frames: unknown[][]
  closed: Promise<number>
  send(message: unknown[]): void
  /** the first frame from index `from` on that matches */
  next(match: (f: unknown[]) => boolean, from?: number, ms?: number): Promise<unknown[]>
  /** sends a REQ; the frames for it up to EOSE or CLOSED, and any AUTH between */
  req(subId: string, ...filters: object[]): Promise<unknown[][]>
  /** publishes; the OK frame */
  publish(event: Event): Promise<unknown[]>
  /** publishes all at once; their OK frames */
  publishAll(events: Event[], ms?: number): Promise<unknown[][]>
  /** sends an AUTH event; the OK frame */
  auth(event: Event): Promise<unknown[]>
  close(): void
}

export async function connect(url: string): Promise<RawClient> {
  const ws = new WebSocket(url)
  const frames: unknown[][] = []
  const waiters = new Set<() => void>()
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()))
    for (const w of waiters) w()
  })
  ws.on('error', () => {})
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  const next = (match: (f: unknown[]) => boolean, from = 0, ms = 5_000) =>
    new Promise<unknown[]>((resolve, reject) => {
      let i = from // each frame is matched once
      const check = () => {
        for (; i < frames.length; i++) {
          if (!match(frames[i])) continue
          waiters.delete(check)
          clearTimeout(timer)
          resolve(frames[i])
          return
        }
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`no matching frame within ${ms} ms; last: ${JSON.stringify(frames.slice(from).slice(-5))}`))
      }, ms)
      waiters.add(check)
      check()
    })
  const send = (message: unknown[]) => ws.send(JSON.stringify(message))
  const answerTo = async (message: unknown[], id: string) => {
    const from = frames.length
    send(message)
    return next((f) => f[0] === 'OK' && f[1] === id, from)
  }
  return {
    frames,
    closed,
    send,
    next,
    async req(subId, ...filters) {
      const from = frames.length
      send(['REQ', subId, ...filters])
      await next((f) => (f[0] === 'EOSE' || f[0] === 'CLOSED') && f[1] === subId, from)
      return frames.slice(from).filter((f) => f[1] === subId || f[0] === 'AUTH')
    },
    publish: (event) => answerTo(['EVENT', event], event.id),
    async publishAll(events, ms = 20_000) {
      const ids = new Set(events.map((e) => e.id))
      const from = frames.length
      for (const e of events) send(['EVENT', e])
      let seen = 0
      await next((f) => f[0] === 'OK' && ids.has(f[1] as string) && ++seen === ids.size, from, ms)
      return frames.slice(from).filter((f) => f[0] === 'OK' && ids.has(f[1] as string))
    },
    auth: (event) => answerTo(['AUTH', event], event.id),
    close: () => ws.close(),
  }
}

export const now = () => Math.floor(Date.now() / 1000)

/** an event as it comes over the wire (nostr-tools marks the ones it made as verified) */
export const plain = <T>(event: T): T => JSON.parse(JSON.stringify(event))

export function signed(template: Partial<EventTemplate>, sk = generateSecretKey()): Event {
  return plain(finalizeEvent({ kind: 1, content: 'hello', tags: [], created_at: now(), ...template }, sk))
}

/** a NIP-42 AUTH event, with created_at and tags changed as asked */
export function authEvent(sk: Uint8Array, relay: string, challenge: string, change: Partial<EventTemplate> = {}): Event {
  return finalizeEvent({ ...makeAuthEvent(relay, challenge), ...change }, sk)
}

/** the challenge of the last AUTH frame received */
export const challengeOf = (c: RawClient) => c.frames.filter((f) => f[0] === 'AUTH').at(-1)?.[1] as string

/** The gift wraps waiting for `sk` on `url`, read as a NIP-42-aware client: AUTH when asked, then ask again. */
export const wrapsFor = (url: string, sk: Uint8Array): Promise<Event[]> => inboxFor(url, sk, 1059)

/** The events of `kind` p-tagged to `sk`'s key on `url`, read as wrapsFor reads. */
export async function inboxFor(url: string, sk: Uint8Array, kind: number): Promise<Event[]> {
  const c = await connect(url)
  try {
    await new Promise((resolve) => setTimeout(resolve, 100)) // a relay that challenges on connect has done so
    let authed = false
    for (let attempt = 0; ; attempt++) {
      const challenge = challengeOf(c)
      if (challenge && !authed) {
        authed = true
        await c.auth(authEvent(sk, url, challenge))
      }
      const frames = await c.req(`inbox${attempt}`, { kinds: [kind], '#p': [getPublicKey(sk)] })
      if (!frames.some((f) => f[0] === 'CLOSED') || attempt === 1) return frames.filter((f) => f[0] === 'EVENT').map((f) => f[2] as Event)
    }
  } finally {
    c.close()
  }
}
