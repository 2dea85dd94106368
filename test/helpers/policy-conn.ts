// What a relay policy sees of one connection, and what it decides on each message.
import type { Event } from 'nostr-tools/pure'

export type Filter = { kinds?: number[]; limit?: number; [key: string]: unknown }

export interface Conn {
  ip: string
  /** the NIP-42 challenge of this connection, once one was made */
  challenge?: string
  /** the pubkey this connection is authenticated as */
  authed?: string
  /** open subscriptions */
  subs: Set<string>
  send(frame: unknown[]): void
  /** an AUTH that takes effect once the message after it was handled (Policy.authLags) */
  lagging?: () => void
}

/** Frames to answer a REQ with instead of passing it to the store. */
export interface Reply {
  reply: unknown[][]
}
export const reply = (...frames: unknown[][]): Reply => ({ reply: frames })

export interface Policy {
  /** its NIP-11 document */
  info: Record<string, unknown>
  /** largest websocket frame; a larger one drops the connection */
  maxPayload?: number
  /** the store's limit for a filter without one (its own default is 100) */
  defaultLimit?: number
  onConnect?(conn: Conn): void
  /** the filters to pass on to the store, or the frames that answer instead */
  onReq(conn: Conn, subId: string, filters: Filter[]): Filter[] | Reply
  /** a refusal reason for OK false, or undefined to store it */
  onEvent?(conn: Conn, event: Event): string | undefined
  /** an AUTH takes effect only after the message that follows it was handled (or 50 ms on, when
   *  none follows) */
  authLags?: boolean
  /** the OK for an AUTH event: accepted, and the reason */
  onAuth(conn: Conn, event: Event): readonly [boolean, string]
  /** whether a stored event may go out to this connection */
  canSee(conn: Conn, event: Event): boolean
  /** NIP-77: spoken (negentropy.ts) when this is set; the frames that answer a NEG-OPEN instead
   *  (AUTH), or undefined to reconcile */
  onNegOpen?(conn: Conn, subId: string, filter: Filter): Reply | undefined
  /** whether a stored event is among those NIP-77 reconciles for this connection (default: canSee) */
  negCanSee?(conn: Conn, event: Event): boolean
}

export interface RateLimit {
  tokensPerInterval: number
  intervalMs: number
  maxTokens: number
}

/** khatru's startRateLimitSystem: a key may take maxTokens; every interval gives back tokensPerInterval. */
export function rateLimiter({ tokensPerInterval, intervalMs, maxTokens }: RateLimit): (key: string) => boolean {
  const started = Date.now()
  const buckets = new Map<string, { used: number; period: number }>()
  return (key) => {
    const period = Math.floor((Date.now() - started) / intervalMs)
    const bucket = buckets.get(key) ?? { used: 0, period }
    bucket.used = Math.max(0, bucket.used - tokensPerInterval * (period - bucket.period))
    bucket.period = period
    buckets.set(key, bucket)
    if (bucket.used >= maxTokens) return true
    bucket.used++
    return false
  }
}
