/*
 * framed.h - length-framed messages over a byte stream, shared by the
 * transports whose kernel object is a stream (pipe, fifo, AF_UNIX stream
 * socket, TCP).
 *
 * A frame is a 4-byte length in host order followed by the payload, sent
 * with one system call: a small frame (up to 1 KiB) is copied behind its
 * header and written, a larger one is gathered with writev()/sendmsg().
 * The receiver reads into its own buffer, so a small message usually costs
 * one read() and often none (several frames arrive in one read); a
 * message larger than the buffer is read straight into the caller's buffer
 * once its start has been copied out.
 */
#ifndef IPCB_FRAMED_H
#define IPCB_FRAMED_H

#include "ipc.h"

#include <stdbool.h>
#include <stddef.h>

/* Bytes of the receiver's buffer. */
#define IPCB_FRAMED_RBUF (64 * 1024)

/* Largest payload a frame can describe. */
#define IPCB_FRAMED_MAX UINT32_MAX

/* Receive state of one reader: unread bytes are buf[pos, len); buf holds
 * IPCB_FRAMED_RBUF bytes and belongs to the owner of the state. */
struct ipcb_framed_rx {
	size_t pos, len;
	char *buf;
};

/* Sends one frame of len bytes on fd, whole, retrying on EINTR and partial
 * writes. sock: fd is a socket, sent with MSG_NOSIGNAL (sendmsg); else it
 * is a pipe or fifo (writev). 0, or -EPIPE once no reader is left. */
int ipcb_framed_send(int fd, bool sock, const void *buf, size_t len);

/* Receives one frame from fd through rx into buf (capacity cap) and stores
 * its length in *len. -EPIPE at end of stream between frames, -EPROTO at
 * end of stream inside a frame, -EMSGSIZE (nothing consumed) if the frame
 * exceeds cap. */
int ipcb_framed_recv(int fd, struct ipcb_framed_rx *rx, void *buf, size_t cap,
		     size_t *len);

/* A ready-made endpoint for transports whose endpoint is just one stream
 * fd: their ops tables use the functions below as send, recv and detach. */
struct ipcb_framed_ep {
	int fd;
	bool sock;
	struct ipcb_framed_rx rx; /* rx.buf is NULL on a producer */
};

/* Makes an endpoint owning a close-on-exec duplicate of fd; a consumer
 * gets a receive buffer. */
int ipcb_framed_attach(int fd, enum ipcb_role role, bool sock, void **ep);
int ipcb_framed_ep_send(void *ep, const void *buf, size_t len);
int ipcb_framed_ep_recv(void *ep, void *buf, size_t cap, size_t *len);
void ipcb_framed_ep_detach(void *ep);

#endif
