// Local commands started without the command-line parser: `whoami` with no option but --json
// reads two small files, and loading yargs and the command table would cost it more than the
// work (issue 15: it should start like --help). Anything else goes through main.ts.
import { whoami } from '../commands/whoami.ts'
import { runCommand } from './run.ts'

export const runQuick = (args: string[]): Promise<void> => runCommand({ json: args.includes('--json') }, whoami)
