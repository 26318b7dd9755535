/*
 * common.c - small helpers shared by transports: names, whole-message
 * stream I/O, shared anonymous memory, shared regions (memfd), peer
 * liveness.
 */
#define _GNU_SOURCE
#include "ipc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int ipcb_name(char *buf, size_t n, const char *prefix,
	      const struct ipcb_chan_config *cfg, const char *suffix)
{
	int len = snprintf(buf, n, "%s%s-%u%s", prefix, cfg->run_tag,
			   cfg->index, suffix);
	if (len < 0 || (size_t)len >= n)
		return -ENAMETOOLONG;
	return 0;
}

int ipcb_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t r = read(fd, p + done, len - done);
		if (r > 0) {
			done += (size_t)r;
		} else if (r == 0) {
			return done == 0 ? -EPIPE : -EPROTO;
		} else if (errno != EINTR) {
			return errno == ECONNRESET ? -EPIPE : -errno;
		}
	}
	return 0;
}

int ipcb_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);
		if (w >= 0)
			done += (size_t)w;
		else if (errno != EINTR)
			return -errno;
	}
	return 0;
}

void *ipcb_map_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int ipcb_region_create(struct ipcb_region *r, size_t len)
{
	int rc;

	r->base = NULL;
	r->len = len;
	r->fd = memfd_create("ipcb", MFD_CLOEXEC);
	if (r->fd < 0)
		return -errno;
	if (ftruncate(r->fd, (off_t)len) < 0) {
		rc = -errno;
		goto err_close;
	}
	rc = ipcb_region_map(r, &r->base);
	if (rc)
		goto err_close;
	return 0;

err_close:
	close(r->fd);
	r->fd = -1;
	return rc;
}

int ipcb_region_map(const struct ipcb_region *r, void **view)
{
	void *p;

	if (r->fd < 0)
		return -EBADF;
	p = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*view = p;
	return 0;
}

void ipcb_region_release(struct ipcb_region *r)
{
	if (r->base) {
		munmap(r->base, r->len);
		r->base = NULL;
	}
	if (r->fd >= 0) {
		close(r->fd);
		r->fd = -1;
	}
}

void ipcb_region_unmap(void *view, size_t len)
{
	munmap(view, len);
}

/* Syscalls only, no stdio or malloc: sysv-mq's watcher thread calls this
 * while another thread of its process may fork(). */
bool ipcb_pid_alive(pid_t pid)
{
	char path[32], stat[256], *paren;
	ssize_t n;
	int fd;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno != EPERM))
		return false;
	/* A zombie answers kill() but will never send or receive again:
	 * its parent may be the very process waiting on it. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT;
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	if (n <= 0)
		return true;
	stat[n] = '\0';
	paren = strrchr(stat, ')');
	return !(paren && paren[1] == ' ' &&
		 (paren[2] == 'Z' || paren[2] == 'X'));
}

int ipcb_read_proc_ulong(const char *path, unsigned long *out)
{
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f)
		return -errno;
	if (fscanf(f, "%lu", out) != 1)
		rc = -EIO;
	fclose(f);
	return rc;
}
