#!/usr/bin/env bash
# make install lays out binary, units and config; systemd-analyze verify
# accepts both units as installed.
. "$(dirname "$0")/lib.sh"

root="$T/root"
make -s -C "$SRC" install PREFIX=/usr/local DESTDIR="$root" BUILD="$BUILD" >"$T/install.log" 2>&1; rc=$?
[ $rc -eq 0 ] && ok "make install PREFIX=/usr/local DESTDIR=..." || nok "make install" "$(tail -5 "$T/install.log")"
for f in usr/local/bin/ingestd usr/local/lib/systemd/system/ingestd.service \
         usr/local/lib/systemd/system/ingestd@.service etc/ingestd/pipeline.conf \
         usr/local/lib/sysusers.d/ingestd.conf \
         usr/local/share/doc/ingestd/example.conf usr/local/share/doc/ingestd/paths.conf.example; do
    [ -e "$root/$f" ] && ok "installed /$f" || nok "missing /$f"
done
grep -q '^ExecStart=/usr/local/bin/ingestd --config /etc/ingestd/pipeline.conf$' \
    "$root/usr/local/lib/systemd/system/ingestd.service" && ok "unit points at the installed binary and config" \
    || nok "ExecStart" "$(grep ExecStart "$root/usr/local/lib/systemd/system/ingestd.service")"

# A second install with another prefix must not reuse the first one's paths.
make -s -C "$SRC" install PREFIX=/usr DESTDIR="$T/root2" BUILD="$BUILD" >"$T/install2.log" 2>&1
grep -q '^ExecStart=/usr/bin/ingestd --config /etc/ingestd/pipeline.conf$' "$T/root2/usr/lib/systemd/system/ingestd.service" \
    && [ -x "$T/root2/usr/bin/ingestd" ] && ok "make install PREFIX=/usr: units name /usr/bin/ingestd" \
    || nok "PREFIX=/usr install" "$(grep ExecStart "$T/root2/usr/lib/systemd/system/ingestd.service" 2>&1)"
if command -v systemd-sysusers >/dev/null; then
    mkdir -p "$T/sysroot/etc"
    systemd-sysusers --dry-run --root="$T/sysroot" "$root/usr/local/lib/sysusers.d/ingestd.conf" >"$T/sysusers.out" 2>&1 \
        && grep -q "Creating user 'ingestd'" "$T/sysusers.out" && ok "sysusers.d file creates the ingestd user (dry run)" \
        || nok "sysusers dry run" "$(cat "$T/sysusers.out")"
fi

if ! command -v systemd-analyze >/dev/null; then
    skip "systemd-analyze verify" "systemd-analyze not installed"
else
    # verify needs the ExecStart binary at its path on this machine: check
    # the installed units with only that path pointed at the built binary.
    for u in ingestd.service ingestd@.service; do
        name=$u; [ "$u" = ingestd@.service ] && name=ingestd@orders.service
        sed "s|/usr/local/bin/ingestd|$BIN|" "$root/usr/local/lib/systemd/system/$u" > "$T/$name"
        out=$(systemd-analyze verify --man=no "$T/$name" 2>&1); rc=$?
        [ $rc -eq 0 ] && [ -z "$out" ] && ok "systemd-analyze verify $u" || nok "verify $u rc=$rc" "$out"
    done
    sec=$(systemd-analyze --offline=true security --root="$root" \
          "$root/usr/local/lib/systemd/system/ingestd.service" 2>&1 | tail -1)
    grep -qE 'Overall exposure level for ingestd.service: [0-2]\.[0-9] (OK|SAFE)' <<<"$sec" \
        && ok "systemd-analyze security: $sec" || nok "exposure too high" "$sec"
fi
for k in Type=notify ExecReload= Restart=on-failure RestartPreventExitStatus=2 WatchdogSec= NoNewPrivileges=yes ProtectSystem=strict \
         StateDirectory= ProtectHome=yes PrivateTmp=yes UMask=0027 LimitNOFILE=; do
    grep -q "^$k" "$SRC/systemd/ingestd.service.in" && grep -q "^$k" "$SRC/systemd/ingestd@.service.in" \
        && ok "both units set $k" || nok "unit lacks $k"
done
grep -q '^ExecStart=.*--config /etc/ingestd/%i.conf$' "$root/usr/local/lib/systemd/system/ingestd@.service" \
    && ok "ingestd@.service runs /etc/ingestd/%i.conf" || nok "template config path"
done_testing
