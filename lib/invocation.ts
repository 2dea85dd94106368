// How this run was invoked, so that hints and help name the command the way the user can run
// it: `node p2p.js …` from the skill's folder, `node /its/folder/p2p.js …` from anywhere else (a
// skill is run as `node {baseDir}/p2p.js` from whatever folder the agent's shell is in, and a
// hint copied from there must still run), `p2p …` once installed as a bin (npm install -g, npx),
// where the script is run through a link without the `.js`. A leaf: anything may use it.
import { basename, dirname } from 'node:path'

const SKILL_COMMAND = 'node p2p.js'
const path = process.argv[1] ?? ''
const script = basename(path)

/** A path as one shell word: quoted when it holds anything a shell would read. */
const shellWord = (text: string) => (/^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`)

function workingDir(): string | undefined {
  try {
    return process.cwd()
  } catch {
    return undefined // the folder was removed under us
  }
}

/** The command as the user types it. */
export const COMMAND =
  script === '' || script.endsWith('.ts') || (script.endsWith('.js') && dirname(path) === workingDir())
    ? SKILL_COMMAND
    : script.endsWith('.js')
      ? `node ${shellWord(path)}`
      : script

/** Text written for `node p2p.js …`, in the words of this invocation. */
export const asInvoked = (text: string): string =>
  // a function, not a string: a replacement string reads `$&`, `$'` in a path as patterns
  COMMAND === SKILL_COMMAND ? text : text.replaceAll(SKILL_COMMAND, () => COMMAND)
