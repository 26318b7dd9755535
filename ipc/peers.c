/*
 * peers.c - the roster of a channel's peers; see peers.h.
 */
#define _GNU_SOURCE
#include "peers.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

/* Heads a roster made by ipcb_peers_map(); the roster follows it. */
struct ipcb_peers_mapping {
	size_t len;
	pid_t creator;
	_Atomic unsigned refs;
};

size_t ipcb_peers_size(unsigned producers, unsigned consumers)
{
	return sizeof(struct ipcb_peers) +
	       ((size_t)producers + consumers) * sizeof(pid_t);
}

void ipcb_peers_init(struct ipcb_peers *p, unsigned producers,
		     unsigned consumers)
{
	p->expect[IPCB_PRODUCER] = producers;
	p->expect[IPCB_CONSUMER] = consumers;
	for (int role = IPCB_PRODUCER; role <= IPCB_CONSUMER; role++) {
		atomic_init(&p->claimed[role], 0);
		atomic_init(&p->remaining[role], p->expect[role]);
	}
	for (unsigned i = 0; i < producers + consumers; i++)
		atomic_init(&p->pid[i], 0);
}

/* First place of role in pid[]. */
static unsigned ipcb_peers_base(const struct ipcb_peers *p, enum ipcb_role role)
{
	return role == IPCB_PRODUCER ? 0 : p->expect[IPCB_PRODUCER];
}

int ipcb_peers_join(struct ipcb_peers *p, enum ipcb_role role)
{
	unsigned i = atomic_fetch_add(&p->claimed[role], 1);

	if (i >= p->expect[role])
		return -EUSERS;
	i += ipcb_peers_base(p, role);
	atomic_store(&p->pid[i], getpid());
	return (int)i;
}

bool ipcb_peers_leave(struct ipcb_peers *p, enum ipcb_role role, int place)
{
	atomic_store(&p->pid[place], IPCB_PEERS_GONE);
	return atomic_fetch_sub(&p->remaining[role], 1) == 1;
}

bool ipcb_peers_left(const struct ipcb_peers *p, enum ipcb_role role)
{
	unsigned base = ipcb_peers_base(p, role);

	for (unsigned i = 0; i < p->expect[role]; i++) {
		pid_t pid = atomic_load(&p->pid[base + i]);
		if (pid == 0 || (pid != IPCB_PEERS_GONE && ipcb_pid_alive(pid)))
			return true;
	}
	return false;
}

static struct ipcb_peers_mapping *ipcb_peers_mapping(struct ipcb_peers *p)
{
	return (struct ipcb_peers_mapping *)p - 1;
}

struct ipcb_peers *ipcb_peers_map(unsigned producers, unsigned consumers)
{
	size_t len = sizeof(struct ipcb_peers_mapping) +
		     ipcb_peers_size(producers, consumers);
	struct ipcb_peers_mapping *m = ipcb_map_shared(len);
	struct ipcb_peers *p;

	if (!m)
		return NULL;
	m->len = len;
	m->creator = getpid();
	atomic_init(&m->refs, 1);
	p = (struct ipcb_peers *)(m + 1);
	ipcb_peers_init(p, producers, consumers);
	return p;
}

void ipcb_peers_hold(struct ipcb_peers *p)
{
	struct ipcb_peers_mapping *m = ipcb_peers_mapping(p);

	if (getpid() == m->creator)
		atomic_fetch_add(&m->refs, 1);
}

void ipcb_peers_unmap(struct ipcb_peers *p)
{
	struct ipcb_peers_mapping *m = ipcb_peers_mapping(p);

	if (getpid() == m->creator && atomic_fetch_sub(&m->refs, 1) == 1)
		munmap(m, m->len);
}
