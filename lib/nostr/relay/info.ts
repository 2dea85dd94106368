// NIP-11, read for one thing: `limitation.max_limit`, the most events the relay serves for one
// filter (or its `software`, when that is known to serve as many as asked). A page shorter than that (and than what was asked) ends a read without one more page
// to confirm it (pages.ts). Asked for beside the WebSocket connection and never waited for: it
// is used if it comes before a read ends, and kept for later runs.
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { MAX_RELAY_INFO_BYTES } from '../../limits.ts'

/** What the relay answered (`maxLimit` when its document gives one), or undefined when it did not
 *  answer in `timeoutMs` or `signal` aborted. Never rejects; nothing of it holds the process. */
export function fetchMaxLimit(url: string, timeoutMs: number, signal: AbortSignal): Promise<{ maxLimit?: number } | undefined> {
  return new Promise((resolve) => {
    let address: URL
    try {
      address = new URL(url.replace(/^ws/, 'http'))
    } catch {
      return resolve(undefined)
    }
    const request = address.protocol === 'https:' ? httpsRequest : httpRequest
    const req = request(address, { headers: { Accept: 'application/nostr+json' }, agent: false, signal })
    const done = (answer?: { maxLimit?: number }) => {
      clearTimeout(timer)
      req.destroy()
      resolve(answer)
    }
    const timer = setTimeout(done, timeoutMs)
    timer.unref()
    req.on('socket', (socket) => socket.unref())
    req.on('error', () => done())
    req.on('response', (res: IncomingMessage) => {
      if (res.statusCode !== 200) return done({})
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
        if (body.length > MAX_RELAY_INFO_BYTES) done({})
      })
      res.on('end', () => {
        const maxLimit = maxLimitOf(body)
        done(maxLimit ? { maxLimit } : {})
      })
      res.on('error', () => done())
    })
    req.end()
  })
}

/** Relay software that publishes no `max_limit` because it has none: it answers a filter with
 *  as many events as its `limit` asks. nostr-rs-relay: src/repo/sqlite.rs, query_from_filter
 *  (`ORDER BY e.created_at DESC LIMIT {lim}`, the client's limit as it came); its info.rs names
 *  this `software`. */
const UNCAPPED_SOFTWARE = ['git.sr.ht/~gheartsfield/nostr-rs-relay']
/** The cap of such a relay: any page shorter than asked is the last. */
const UNCAPPED = Number.MAX_SAFE_INTEGER

/** `limitation.max_limit` of a NIP-11 document, when it is a positive integer; UNCAPPED for
 *  software known to have none. */
export function maxLimitOf(body: string): number | undefined {
  try {
    const doc = JSON.parse(body)
    const limit = doc?.limitation?.max_limit
    if (Number.isSafeInteger(limit) && limit > 0) return limit
    const software = typeof doc?.software === 'string' ? doc.software : ''
    return UNCAPPED_SOFTWARE.some((s) => software.includes(s)) ? UNCAPPED : undefined
  } catch {
    return undefined
  }
}
