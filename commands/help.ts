import {Args, loadHelpClass} from '@oclif/core';
import {BaseCommand, EXIT} from '../src/cli/base';
import {unknownCommandLine} from '../src/cli/suggest';

// `exectrace help decode`, as git and npm have it. oclif's core renders help for --help
// and -h itself; this command only hands it the command named, which is all the
// @oclif/plugin-help package would add.
export default class Help extends BaseCommand {
  static override summary = 'Show help for a command (the same as COMMAND --help).';
  static override strict = false;
  static override args = {
    command: Args.string({description: 'the command to describe', required: false}),
  };

  static override examples = ['<%= config.bin %> help decode', '<%= config.bin %> help'];

  async run(): Promise<void> {
    const {argv} = await this.parse(Help);
    const words = (argv as string[]).filter((a) => !a.startsWith('-'));
    if (words.length && !this.config.findCommand(words[0])) {
      const names = this.config.commands.filter((c) => !c.hidden).map((c) => c.id);
      process.stderr.write(unknownCommandLine(this.config.bin, words[0], names) + '\n');
      process.exit(EXIT.usage);
    }
    const HelpClass = await loadHelpClass(this.config);
    await new HelpClass(this.config, this.config.pjson.oclif.helpOptions).showHelp(words.slice(0, 1));
  }
}
