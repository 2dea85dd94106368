// Checks of what the user typed that several commands share.
import { usageError } from '../errors.ts'

/** `raw` trimmed, when it holds 1 to `max` characters; else a usage error that names `what`
 *  and shows `example`. */
export function requiredText(raw: string, max: number, code: string, what: string, example: string): string {
  const text = raw.trim()
  if (!text || text.length > max) throw usageError(code, `${what} of 1 to ${max} characters`, `e.g. \`${example}\``)
  return text
}
