// What one relay connection keeps and reads: the result shapes, each open REQ's and publish's
// bookkeeping, and incoming frames parsed (or refused) before anything acts on them.
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { MAX_FRAME_DEPTH } from '../../limits.ts'
import { isRestrictedRead, type SentAs } from './auth.ts'
import { eventBudget } from './incoming.ts'

export type PublishStatus = { url: string; ok: true } | { url: string; ok: false; reason: string }

export interface QueryResult {
  url: string
  /** true when the relay said EOSE: it sent everything it has for the filters */
  complete: boolean
  reason?: string
}

export interface ReqOptions {
  /** ids we already have: dropped without spending a signature check on them */
  known?: (id: string) => boolean
  /** keep the subscription open after EOSE, until the deadline (live events) */
  live?: boolean
}

export interface PendingQuery extends ReqOptions {
  filters: Filter[]
  /** events received so far, and how many the filters can justify */
  received: number
  maxEvents: number
  onEvent: (event: Event, known: boolean) => void
  /** `relayClosed`: the relay ended the subscription itself, so no CLOSE is sent */
  finish: (complete: boolean, reason?: string, relayClosed?: boolean) => void
  onEose: () => void
  /** how it last went out, as to our AUTH (auth.ts) */
  sentAs: SentAs
  /** the REQ asks only for kinds relays keep for authenticated readers (DMs) */
  restricted: boolean
}

export interface PendingPublish {
  event: Event
  finish: (status: PublishStatus) => void
  authRetried: boolean
}

/** A REQ's bookkeeping before anything came back. */
export const freshReq = (filters: Filter[], live = false) => ({
  filters,
  received: 0,
  maxEvents: eventBudget(filters, live),
  sentAs: 'before' as SentAs,
  restricted: isRestrictedRead(filters),
})

/** A relay message as an array whose first element names it; a string says why a frame is
 *  dropped (counted); null is a frame we simply do not use. Its depth is checked first. */
export function parseFrame(text: string, isBinary: boolean): unknown[] | string | null {
  if (isBinary) return '< (binary frame ignored)'
  if (nestedDeeper(text, MAX_FRAME_DEPTH)) return `! frame nested deeper than ${MAX_FRAME_DEPTH} levels ignored`
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch {
    return '! malformed JSON ignored'
  }
  return Array.isArray(message) && typeof message[0] === 'string' ? message : null
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const [OPEN_ARRAY, OPEN_OBJECT, CLOSE_ARRAY, CLOSE_OBJECT] = [0x5b, 0x7b, 0x5d, 0x7d]

/** Whether JSON text nests arrays and objects deeper than `max` (brackets in strings are text):
 *  one pass that skips strings natively (an event's content is most of a frame), and stops at
 *  the first level too deep. */
function nestedDeeper(text: string, max: number): boolean {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) i = closingQuote(text, i)
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--
  }
  return false
}

/** Where the string opened at `start` ends (the text's length when it does not). */
function closingQuote(text: string, start: number): number {
  for (let at = text.indexOf('"', start + 1); at !== -1; at = text.indexOf('"', at + 1)) {
    let slashes = 0
    while (text.charCodeAt(at - 1 - slashes) === BACKSLASH) slashes++
    if (slashes % 2 === 0) return at
  }
  return text.length
}
