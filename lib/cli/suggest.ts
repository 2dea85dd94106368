// A typo in a command name gets the nearest real one as its hint.
import { type P2PError, usageError } from '../errors.ts'

/** Names further than this many edits from every command get the general hint. */
const MAX_TYPO_DISTANCE = 2

export function unknownCommand(message: string, commands: string[]): P2PError {
  const typed = /Unknown (?:argument|command)s?: (\S+)/.exec(message)?.[1]?.replace(/,$/, '')
  const nearest = typed ? commands.map((c) => [c, distance(typed, c)] as const).sort((a, b) => a[1] - b[1])[0] : undefined
  const hint =
    nearest && nearest[1] <= MAX_TYPO_DISTANCE
      ? `did you mean \`node p2p.js ${nearest[0]}\`?`
      : 'run `node p2p.js --help` to see the commands'
  return usageError('bad-usage', message, hint)
}

/** Levenshtein distance, one row at a time. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]
}
