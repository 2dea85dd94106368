// NIP-11, read for one thing: `limitation.max_limit`, the most events the relay serves for one
// filter. A page shorter than that (and than what was asked) ends a read without one more page
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

/** `limitation.max_limit` of a NIP-11 document, when it is a positive integer. */
export function maxLimitOf(body: string): number | undefined {
  try {
    const limit = JSON.parse(body)?.limitation?.max_limit
    return Number.isSafeInteger(limit) && limit > 0 ? limit : undefined
  } catch {
    return undefined
  }
}
