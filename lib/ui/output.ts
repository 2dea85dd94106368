// Everything printed goes through here: one JSON document with --json, readable lines
// otherwise; relay traffic and timings on stderr with --verbose; errors with their hint.
import type { P2PError } from '../errors.ts'
import { asInvoked } from '../invocation.ts'
import { MAX_LOG_LINE, MAX_RELAY_REASON } from '../limits.ts'
import { shownLine } from '../sanitize.ts'
import type { Dropped } from '../store/state.ts'
import { PROGRESS_FRAME_MS } from '../timing.ts'
import { relayError } from './format.ts'

/** A relay whose read this run was not complete, and why (the relay's own words, or ours). */
export interface RelayWarning {
  relay: string
  reason: string
}

export interface Output {
  json: boolean
  /** ANSI colour for plain output on a terminal; the text unchanged otherwise (pipes, --json, NO_COLOR) */
  paint(colour: keyof typeof COLOURS, text: string): string
  /** prints the command's result: `doc` with --json, `plain` lines otherwise; resolves to
   *  whether it was written (false: stdout was closed, e.g. `| head`) */
  result(doc: object, plain: () => string[]): Promise<boolean>
  /** an error and its hint, what to do next */
  error(err: P2PError, extra?: object): void
  /** a spinner line on stderr for long work, on a terminal only; returns the function that ends it */
  progress(label: string): () => void
  /** --verbose only */
  log(line: string): void
  /** always, on stderr */
  warn(line: string): void
  /** our relays a sync did not read in full: one line each on stderr at once (each relay once a
   *  run, however often it syncs), or `warnings` in the JSON document (result or error) */
  unread(warnings: RelayWarning[]): void
  /** unprinted events the journal could not keep: said on stderr at once, or `dropped` (counts
   *  added up) in the JSON document */
  dropped(dropped: Dropped): void
}

const COLOURS = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2 } as const

const colourFor = (stream: NodeJS.WriteStream, json: boolean) => !json && stream.isTTY === true && !process.env.NO_COLOR

// A reader that went away (`| head`) is not an error of ours: what was not written is reported
// to the caller of result(), never thrown.
process.stdout.on('error', () => {})

export function createOutput(opts: { json?: boolean; verbose?: boolean }, started = Date.now()): Output {
  const json = Boolean(opts.json)
  const colour = colourFor(process.stdout, json)
  const errColour = colourFor(process.stderr, json)
  const paint = (on: boolean) => (c: keyof typeof COLOURS, text: string) => (on ? `\u001b[${COLOURS[c]}m${text}\u001b[0m` : text)
  const warn = (line: string) => process.stderr.write(`${asInvoked(line)}\n`)
  // what the run could not read or keep: on stderr as it happens, or added to the JSON document
  const unread = new Map<string, string>()
  let dropped: Dropped | undefined
  const notes = {
    warnings: () => (unread.size ? [...unread].map(([relay, reason]) => ({ relay, reason })) : undefined),
    dropped: () => dropped,
  }
  // added after the command's own keys, never over one (`outbox drop` has a `dropped` of its own)
  const noted = (doc: object) => {
    const added = Object.entries(notes).flatMap(([key, value]) => (key in doc || value() === undefined ? [] : [[key, value()]]))
    return { ...doc, ...Object.fromEntries(added) }
  }
  return {
    json,
    paint: paint(colour),
    result(doc, plain) {
      const text = json
        ? `${JSON.stringify(noted(doc), null, 2)}\n`
        : plain()
            .map((l) => `${asInvoked(l)}\n`)
            .join('')
      return new Promise((resolve) => process.stdout.write(text, (err) => resolve(!err)))
    },
    error(err, extra = {}) {
      const hint = asInvoked(err.hint ?? '')
      if (json) {
        const doc = noted({ ...extra, error: { code: err.code, message: err.message, hint } })
        process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`)
      } else {
        process.stderr.write(`${paint(errColour)('red', 'error:')} ${err.message}\n  ${paint(errColour)('bold', 'next:')} ${hint}\n`)
      }
    },
    progress(label) {
      if (!errColour || opts.verbose) return () => {}
      const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'
      const begun = Date.now()
      let i = 0
      const draw = () => process.stderr.write(`\r${frames[i++ % frames.length]} ${label} ${((Date.now() - begun) / 1000).toFixed(1)} s`)
      draw()
      const timer = setInterval(draw, PROGRESS_FRAME_MS)
      return () => {
        clearInterval(timer)
        process.stderr.write('\r\u001b[2K')
      }
    },
    log(line) {
      if (!opts.verbose) return
      const clipped = line.length > MAX_LOG_LINE ? `${line.slice(0, MAX_LOG_LINE)}… (${line.length} chars)` : line
      process.stderr.write(`[${String(Date.now() - started).padStart(5)} ms] ${clipped}\n`)
    },
    warn,
    unread(warnings) {
      for (const w of warnings.filter((w) => !unread.has(w.relay))) {
        const said = relayError(w.reason)
        const reason = said.length > MAX_RELAY_REASON ? `${said.slice(0, MAX_RELAY_REASON)}…` : said
        unread.set(w.relay, reason)
        if (!json)
          warn(
            `warning: ${shownLine(w.relay)} not read in full: ${reason}; what it holds may be missing (\`node p2p.js status\` shows every relay)`,
          )
      }
    },
    dropped(d) {
      dropped = { count: (dropped?.count ?? 0) + d.count, reason: d.reason }
      if (!json)
        warn(
          `warning: ${d.count} new events dropped unread: ${d.reason}, direct messages first; keep strangers out (\`node p2p.js config set accept known\`), or poll more often`,
        )
    },
  }
}
