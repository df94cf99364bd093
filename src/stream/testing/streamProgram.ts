#!/usr/bin/env node
/**
 * A `framelog` with only the stream commands, for tests that run the CLI as a child process
 * before (and independently of) the main entry point.
 */
import { Command } from 'commander';
import { registerStreamCommands } from '../../cli/streamCommands.js';

const program = new Command().name('framelog');
registerStreamCommands(program);
await program.parseAsync(process.argv);
