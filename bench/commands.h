/*
 * commands.h - ipcbench's subcommands besides running benchmarks. Each
 * takes the subcommand's own argv (argv[0] is the subcommand name), prints
 * its own results and errors, and returns the process exit code.
 */
#ifndef IPCB_COMMANDS_H
#define IPCB_COMMANDS_H

int ipcb_cmd_plot(int argc, char **argv);
int ipcb_cmd_compare(int argc, char **argv);
int ipcb_cmd_limits(int argc, char **argv);

#endif
