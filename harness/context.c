/*
 * context.c - run context, run tag and stale object removal (context.h).
 */
#define _GNU_SOURCE
#include "harness/context.h"
#include "ipc/ipc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <mqueue.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

void ipcb_context_now(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void cpu_model(char *buf, size_t n)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[512];

	snprintf(buf, n, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && colon) {
			colon += 2;
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(buf, n, "%s", colon);
			break;
		}
	}
	fclose(f);
}

void ipcb_context_fill(struct ipcb_context *c, int argc, char **argv)
{
	struct utsname u;
	size_t len = 0;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	c->command_line = malloc(len + 1);
	if (c->command_line) {
		c->command_line[0] = '\0';
		for (int i = 0; i < argc; i++) {
			strcat(c->command_line, i ? " " : "");
			strcat(c->command_line, argv[i]);
		}
	}
	snprintf(c->version, sizeof(c->version), "%s", IPCB_VERSION);
	snprintf(c->git_revision, sizeof(c->git_revision), "%s", IPCB_GIT_REV);
	ipcb_context_now(c->start_time, sizeof(c->start_time));
	if (gethostname(c->hostname, sizeof(c->hostname)) < 0)
		snprintf(c->hostname, sizeof(c->hostname), "unknown");
	if (uname(&u) == 0)
		snprintf(c->kernel, sizeof(c->kernel), "%s %s %s", u.sysname,
			 u.release, u.machine);
	cpu_model(c->cpu_model, sizeof(c->cpu_model));
	c->cpu_count = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	ipcb_read_proc_ulong("/proc/sys/fs/mqueue/msg_max", &c->mq_msg_max);
	ipcb_read_proc_ulong("/proc/sys/fs/mqueue/msgsize_max",
			     &c->mq_msgsize_max);
}

int ipcb_run_tag(char *buf, size_t n)
{
	unsigned char r[8];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -EIO;
	snprintf(buf, n, "ipcb-%d-%02x%02x%02x%02x%02x%02x%02x%02x",
		 (int)getpid(), r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	return 0;
}

/* The owner pid in "ipcb-<pid>-...", or 0 if name is not ipcbench's. */
static pid_t owner_of(const char *name)
{
	char *end;
	long pid;

	if (strncmp(name, "ipcb-", 5) != 0)
		return 0;
	pid = strtol(name + 5, &end, 10);
	return *end == '-' && pid > 0 ? (pid_t)pid : 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int ipcb_remove_stale(FILE *report)
{
	static const char *const dirs[] = { "/dev/shm", "/dev/mqueue", "/tmp" };
	int removed = 0;

	for (size_t d = 0; d < 3; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;
		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			pid_t pid = owner_of(de->d_name);
			char path[512];
			int rc;
			if (!pid || ipcb_pid_alive(pid))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d],
				 de->d_name);
			if (d == 0)
				rc = shm_unlink(de->d_name);
			else if (d == 1)
				rc = mq_unlink(path + strlen("/dev/mqueue"));
			else
				rc = nftw(path, remove_entry, 8,
					  FTW_DEPTH | FTW_PHYS);
			if (rc == 0) {
				removed++;
				fprintf(report,
					"ipcbench: removed %s left by "
					"a dead run (pid %d)\n",
					path, (int)pid);
			}
		}
		closedir(dir);
	}
	return removed;
}
