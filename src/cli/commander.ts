import { createRequire } from "node:module";
import type * as Commander from "commander";

// commander is CommonJS. Imported as an ES module, it goes through a wrapper whose source Node
// must first scan for the names it exports; required, it loads about 3 ms sooner, and every
// command waits for it before anything else.
const commander = createRequire(import.meta.url)("commander") as typeof Commander;

export const { Command, CommanderError, Option } = commander;
export type Command = Commander.Command;
export type CommanderError = Commander.CommanderError;
export type Option = Commander.Option;
