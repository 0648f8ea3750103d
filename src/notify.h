/*
 * notify.h - readiness, status and watchdog for systemd.
 *
 * Speaks the sd_notify(3) datagram protocol directly (one sendto() per
 * message on the socket named by $NOTIFY_SOCKET), which is stable and
 * documented for reimplementation, so driftd needs no libsystemd.  Without
 * $NOTIFY_SOCKET every call does nothing.
 */
#ifndef DRIFTD_NOTIFY_H
#define DRIFTD_NOTIFY_H

#include <stdint.h>

/* Read $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID.  Returns 0, or a
 * negative errno when the socket named cannot be used. */
int notify_init(void);
void notify_close(void);

/* Send one message, such as "READY=1\nSTATUS=following 1 input". */
void notify_send(const char *msg);

/* The watchdog interval systemd asked for, in milliseconds, or 0. */
uint64_t notify_watchdog_ms(void);

#endif
