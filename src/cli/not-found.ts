// oclif's command_not_found hook: a mistyped command is one line with the likely command
// and exit status 2 (bad usage), in place of oclif's `command decod:x not found`.

import type {Hook} from '@oclif/core';
import {unknownCommandLine} from './suggest';

const hook: Hook<'command_not_found'> = async function (opts) {
  // With spaces as the topic separator oclif glues the words it could not place into the
  // id (`decod trace.bin` → `decod:trace.bin`): the first word is what was typed as a command.
  const typed = opts.id.split(':')[0];
  const names = opts.config.commands.filter((c) => !c.hidden).map((c) => c.id);
  process.stderr.write(unknownCommandLine(opts.config.bin, typed, names) + '\n');
  process.exit(2);
};

export default hook;
