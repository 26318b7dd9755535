/*
 * peers.h - the roster of a channel's peers, for transports whose mechanism
 * has no end of stream of its own (or none a dead process triggers).
 *
 * The roster lives in memory shared by every endpoint of a channel (the
 * caller places it there and sizes it with ipcb_peers_size()) and records,
 * per role, the endpoints the configuration declared, the pid of each one
 * that attached and which of them have left. It answers one question on a
 * transport's slow path: may a peer of this role still send (receive)?
 *
 * Each declared endpoint has one place in pid[], producers first. A place
 * holds 0 until its endpoint joins (a worker that has not attached yet
 * counts as present: it may still come), then that endpoint's pid, then
 * IPCB_PEERS_GONE once it has left.
 */
#ifndef IPCB_PEERS_H
#define IPCB_PEERS_H

#include "ipc.h"

#include <stdatomic.h>

#define IPCB_PEERS_GONE ((pid_t)-1)

struct ipcb_peers {
	unsigned expect[2];	       /* declared endpoints per role */
	_Atomic unsigned claimed[2];   /* places handed out per role */
	_Atomic unsigned remaining[2]; /* declared endpoints not yet left */
	_Atomic pid_t pid[];	       /* producers' places, then consumers' */
};

/* Bytes of a roster for this many producers and consumers. */
size_t ipcb_peers_size(unsigned producers, unsigned consumers);

/* Initializes a roster in ipcb_peers_size() bytes of shared memory (zeroed
 * or not), before any endpoint exists. */
void ipcb_peers_init(struct ipcb_peers *p, unsigned producers,
		     unsigned consumers);

/* Records the calling process as an endpoint of role: its place (>= 0) for
 * ipcb_peers_leave(), or -EUSERS when more endpoints of role join than
 * were declared. Safe against concurrent joins from any process. */
int ipcb_peers_join(struct ipcb_peers *p, enum ipcb_role role);

/* Marks the endpoint at place (of role) as gone. True for exactly one
 * caller: the last of the declared endpoints of role to leave, once all of
 * them have joined and left (e.g. the one to queue end of stream). */
bool ipcb_peers_leave(struct ipcb_peers *p, enum ipcb_role role, int place);

/* True while an endpoint of role may still act: one has not joined yet, or
 * one joined, has not left and its process is alive (ipcb_pid_alive(), so
 * a zombie counts as dead). Makes system calls only (no allocation, no
 * lock), so a watcher thread or a signal-free slow path may call it; it
 * reads /proc once per pid, so keep it off the per-message path. */
bool ipcb_peers_left(const struct ipcb_peers *p, enum ipcb_role role);

/*
 * A roster in an anonymous shared mapping of its own, for transports with
 * no shared memory to keep it in (the message queues): map it at setup,
 * before any worker forks. The creating process holds one reference for
 * the channel and one per endpoint it attaches (ipcb_peers_hold() after a
 * join): in thread mode teardown may run while its endpoints still use the
 * roster. ipcb_peers_unmap() drops a reference and unmaps the roster with
 * the last one. In any other process both do nothing: a forked worker's
 * inherited mapping simply ends with it. ipcb_peers_map() returns NULL
 * when out of memory.
 */
struct ipcb_peers *ipcb_peers_map(unsigned producers, unsigned consumers);
void ipcb_peers_hold(struct ipcb_peers *p);
void ipcb_peers_unmap(struct ipcb_peers *p);

#endif
