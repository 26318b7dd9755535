/*
 * fuzz_options.c - libFuzzer target for ipcbench's command line
 * (ipcb_parse_options, bench/options.h).
 *
 * The input is one or more command lines, one per line; each line is split
 * into words on NUL, space, tab, CR, VT and FF, and ipcb_parse_options()
 * parses "ipcbench WORDS...". Besides what the sanitizers catch, it
 * aborts when the contract is broken: an error must come with a non-empty
 * one-line message, and a second parse of the same words must give the
 * same answer (getopt's global state is reset by every call).
 *
 * The parser only looks at the file system (stat and access of --output):
 * it creates nothing, so the fuzzer can run in any directory.
 */
#define _GNU_SOURCE
#include "bench/options.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 256
#define ERR_LEN 512

static bool is_sep(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Splits line[0..len) in place into words after argv[0]; returns argc. */
static int split_words(char *line, size_t len, char **argv)
{
	int argc = 1;

	argv[0] = "ipcbench";
	for (size_t i = 0; i < len && argc < MAX_WORDS; i++) {
		if (is_sep(line[i]))
			continue;
		argv[argc++] = &line[i];
		while (i < len && !is_sep(line[i]))
			i++;
		if (i < len)
			line[i] = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

/* Parses a copy of argv (getopt permutes the array it is given). */
static enum ipcb_parse parse(int argc, char *const *argv,
			     struct ipcb_options *o, char *err)
{
	char *copy[MAX_WORDS + 1];
	enum ipcb_parse rc;

	memcpy(copy, argv, (size_t)(argc + 1) * sizeof(*copy));
	err[0] = '\0';
	rc = ipcb_parse_options(argc, copy, o, err, ERR_LEN);
	if (rc == IPCB_PARSE_ERROR && (!err[0] || strchr(err, '\n'))) {
		fprintf(stderr, "bad error message: '%s'\n", err);
		abort();
	}
	return rc;
}

static void parse_line(char *line, size_t len)
{
	static struct ipcb_options o1, o2;
	char *argv[MAX_WORDS + 1], err1[ERR_LEN], err2[ERR_LEN];
	int argc = split_words(line, len, argv);
	enum ipcb_parse rc1, rc2;

	rc1 = parse(argc, argv, &o1, err1);
	rc2 = parse(argc, argv, &o2, err2);
	if (rc1 != rc2 || strcmp(err1, err2) != 0) {
		fprintf(stderr, "second parse differs: %d '%s' then %d '%s'\n",
			rc1, err1, rc2, err2);
		abort();
	}
	if (rc1 == IPCB_PARSE_RUN &&
	    (o1.ntransports == 0 || o1.ntransports > IPCB_MAX_LIST ||
	     o1.nprocs == 0 || o1.nprocs > IPCB_MAX_LIST || o1.nsizes == 0 ||
	     o1.nsizes > IPCB_MAX_LIST || o1.nwork == 0 ||
	     o1.nwork > IPCB_MAX_LIST || o1.nworkers == 0 || o1.nworkers > 3 ||
	     o1.ncpus > IPCB_MAX_PROCS)) {
		fprintf(stderr, "accepted options with an empty or overfull "
				"list\n");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	size_t start = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i <= size; i++) {
		if (i < size && buf[i] != '\n')
			continue;
		parse_line(buf + start, i - start);
		start = i + 1;
	}
	free(buf);
	return 0;
}
