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

export const hasControlChars = (text: string): boolean => CONTROL.test(text)

/** Removes ANSI escape sequences, carriage returns and other C0/C1 controls (keeps \n and \t). */
export function sanitize(text: string): string {
  return text.replace(ANSI_CSI, '').replace(ANSI_STRING, '').replace(CONTROLS_BUT_LINES, '')
}

/** A peer's one-line field (a name, a description) as we keep it: controls become spaces,
 *  trimmed, at most `max` characters; '' when it is not a string. */
export const singleLine = (value: unknown, max: number): string =>
  typeof value === 'string' ? value.replace(CONTROLS, ' ').trim().slice(0, max) : ''
