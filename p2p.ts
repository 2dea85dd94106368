// p2p-comm's entry point. `node p2p.js` and `node p2p.js --help` print the usage at once
// (written to dist/help.txt by the build, from the real yargs help), everything else loads
// the command line (lib/cli/main.ts): help is the one answer that needs no code.
import { readFileSync } from 'node:fs'
import { asInvoked } from './lib/invocation.ts'

const args = process.argv.slice(2)
let help: string | undefined
const wantsHelp = args.length === 0 || (args.length === 1 && (args[0] === '--help' || args[0] === '-h'))
if (wantsHelp && !process.env.P2P_BUILD_HELP) {
  try {
    help = readFileSync(new URL('./dist/help.txt', import.meta.url), 'utf8')
  } catch {
    // not built yet (the build itself asks the real help): fall through to yargs
  }
}
// `whoami` needs no parser either (lib/cli/quick.ts): the test is inline, so that the rest
// of the command line loads only when needed
const quick = args[0] === 'whoami' && args.slice(1).every((a) => a === '--json')
if (help !== undefined) process.stdout.write(asInvoked(help))
else if (quick) await (await import('./lib/cli/quick.ts')).runQuick(args)
else await import('./lib/cli/main.ts')
