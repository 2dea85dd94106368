// The one sanitizer: every string from a peer, a relay or the user that is shown or kept as a
// name goes through here. A leaf module, so that any layer may use it.

// biome-ignore-start lint/suspicious/noControlCharactersInRegex: matching control characters is the point
/** C0 controls, DEL and C1 controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g
/** The same, but keeping newline and tab (text meant to span lines). */
const CONTROLS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g
const ANSI_CSI = /\u001b\[[0-?]*[ -/]*[@-~]/g
const ANSI_STRING = /\u001b[\]PX^_][\s\S]*?(?:\u0007|\u001b\\)/g
// biome-ignore-end lint/suspicious/noControlCharactersInRegex: the patterns above
/** Invisible characters that reorder or hide text: bidi embeddings, overrides and isolates,
 *  zero-width spaces and joiners, the byte-order mark. */
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/
const INVISIBLES = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g
/** Line and paragraph separators: terminals and editors break lines on them. */
const SEPARATORS = /[\u2028\u2029]/g

/** Controls, or invisible characters that can disguise what a name or file name says. */
export const hasControlChars = (text: string): boolean => CONTROL.test(text) || INVISIBLE.test(text)

/** Removes ANSI escape sequences, carriage returns, other C0/C1 controls and invisible
 *  characters; line separators become newlines (so that a fence sees every line). */
export function sanitize(text: string): string {
  return text
    .replace(ANSI_CSI, '')
    .replace(ANSI_STRING, '')
    .replace(SEPARATORS, '\n')
    .replace(CONTROLS_BUT_LINES, '')
    .replace(INVISIBLES, '')
}

/** Text from a relay or a peer shown on one line of ours (a relay's refusal reason): sanitized,
 *  and its line breaks made spaces, so that it cannot fake a line of our output. */
export const shownLine = (text: string): string => sanitize(text).replace(/[\n\t]+/g, ' ')

/** A peer's one-line field (a name, a description) as we keep it: controls and separators
 *  become spaces, invisible characters go, trimmed, at most `max` characters; '' when it is
 *  not a string. */
export const singleLine = (value: unknown, max: number): string =>
  typeof value === 'string' ? value.replace(CONTROLS, ' ').replace(SEPARATORS, ' ').replace(INVISIBLES, '').trim().slice(0, max) : ''

/** Latin look-alikes (Cyrillic, Greek) that make two names read the same. */
const LOOK_ALIKES: Record<string, string> = {
  а: 'a',
  в: 'b',
  е: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ɡ: 'g',
  α: 'a',
  β: 'b',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  '0': 'o',
  '1': 'l',
}

/** What a name looks like to a reader: compatibility-normalised, lower case, invisible
 *  characters removed and look-alike letters folded. Two names with the same look are the same
 *  name to a person. */
export function nameLook(name: string): string {
  const folded = name.normalize('NFKC').toLowerCase().replace(INVISIBLES, '').trim()
  return [...folded].map((c) => LOOK_ALIKES[c] ?? c).join('')
}
