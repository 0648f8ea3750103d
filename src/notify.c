/*
 * notify.c - readiness, status and watchdog for systemd.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include "util.h"

static int fd = -1;
static struct sockaddr_un addr;
static socklen_t addrlen;
static uint64_t watchdog_ms;

int
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	size_t len;

	if (usec != NULL && (pid == NULL || pid[0] == '\0' ||
	    (pid_t)atol(pid) == getpid()))
		watchdog_ms = strtoull(usec, NULL, 10) / 1000;
	if (path == NULL || path[0] == '\0')
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(addr.sun_path))
		return -EINVAL;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, len);
	/* '@' names a socket in the abstract namespace. */
	if (path[0] == '@')
		addr.sun_path[0] = '\0';
	addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : 0;
}

void
notify_close(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
}

void
notify_send(const char *msg)
{
	if (fd < 0)
		return;
	/* Best effort: systemd may be restarting; nothing to do about it. */
	(void)sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (const struct sockaddr *)&addr, addrlen);
}

uint64_t
notify_watchdog_ms(void)
{
	return watchdog_ms;
}
