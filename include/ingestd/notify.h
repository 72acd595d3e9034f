/*
 * notify.h - systemd's sd_notify protocol, through libsystemd.
 *
 * Every call is a no-op when NOTIFY_SOCKET is not set, so the daemon calls
 * them unconditionally.  Loop thread.
 */
#ifndef INGESTD_NOTIFY_H
#define INGESTD_NOTIFY_H

#include <stdint.h>

/* 0 when the service manager asked for no watchdog, else the interval in
 * microseconds at which WATCHDOG=1 must arrive (we ping at half of it). */
uint64_t ingest_notify_watchdog_usec(void);

void ingest_notify_ready(const char *status);
void ingest_notify_reloading(void);
void ingest_notify_stopping(const char *status);
void ingest_notify_status(const char *status);
void ingest_notify_watchdog(void);

#endif
