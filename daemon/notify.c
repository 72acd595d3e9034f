/*
 * notify.c - sd_notify messages (see notify.h).  libsystemd does the socket
 * work (abstract namespace, credentials); we only decide what to say.
 */
#include <stdlib.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "ingestd/notify.h"

uint64_t ingest_notify_watchdog_usec(void)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0)
        return usec;
    return 0;
}

void ingest_notify_ready(const char *status)
{
    sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%lu", status ? status : "running",
               (unsigned long)getpid());
}

void ingest_notify_reloading(void)
{
    sd_notify(0, "RELOADING=1\nSTATUS=reloading configuration");
}

void ingest_notify_stopping(const char *status)
{
    sd_notifyf(0, "STOPPING=1\nSTATUS=%s", status ? status : "stopping");
}

void ingest_notify_status(const char *status)
{
    sd_notifyf(0, "STATUS=%s", status);
}

void ingest_notify_watchdog(void)
{
    sd_notify(0, "WATCHDOG=1");
}
