// Checks of what the user typed that several commands share.
import { usageError } from '../errors.ts'

/** `raw` trimmed, when it holds 1 to `max` characters; else a usage error that names `what`
 *  and shows `example`. */
export function requiredText(raw: string, max: number, code: string, what: string, example: string): string {
  const text = raw.trim()
  if (!text || text.length > max) throw usageError(code, `${what} of 1 to ${max} characters`, `e.g. \`${example}\``)
  return text
}

/** Reads stdin to its end, at most `maxChars` characters and within `timeoutMs`: a stdin left
 *  open, or one that never stops, is a usage error, not a hang. */
export function readStdin(maxChars: number, timeoutMs: number, tooLarge: () => Error): Promise<string> {
  const stdin = process.stdin
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const finish = (err?: Error) => {
      clearTimeout(timer)
      stdin.removeAllListeners('data').removeAllListeners('end')
      stdin.destroy()
      if (err) reject(err)
      else resolve(Buffer.concat(chunks).toString('utf8'))
    }
    const timer = setTimeout(() => {
      const hint = 'pipe the content in and let it end: `base64 <file> | node p2p.js sendfile <name> -`'
      finish(usageError('stdin-open', `stdin did not end within ${timeoutMs} ms`, hint))
    }, timeoutMs)
    stdin.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxChars) finish(tooLarge())
      else chunks.push(chunk)
    })
    stdin.once('end', () => finish())
    stdin.once('error', (err) => finish(err))
  })
}
