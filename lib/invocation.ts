// How this run was invoked, so that hints and help name the command the way the user runs it:
// `node p2p.js …` from the skill's folder, `p2p …` once installed as a bin (npm install -g,
// npx), where the script is run through a link without the `.js`. A leaf: anything may use it.
import { basename } from 'node:path'

const SKILL_COMMAND = 'node p2p.js'
const script = basename(process.argv[1] ?? '')

/** The command as the user types it. */
export const COMMAND = script === '' || script.endsWith('.js') || script.endsWith('.ts') ? SKILL_COMMAND : script

/** Text written for `node p2p.js …`, in the words of this invocation. */
export const asInvoked = (text: string): string => (COMMAND === SKILL_COMMAND ? text : text.replaceAll(SKILL_COMMAND, COMMAND))
