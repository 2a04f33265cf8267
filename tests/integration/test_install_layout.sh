#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install_layout: `cmake --install` into a DESTDIR staging tree (never the real system), then:
# the plugin is in LTPROF_BT2_PLUGIN_INSTALL_DIR and babeltrace2 lists sink.ltprof.pprof from
# there, ltprof/ltprof.h, libltprof.so, ltprof.pc and the ltprof command exist, and a program
# built with `pkg-config --cflags --libs ltprof` links and runs against the staged library.
source "$(dirname "$0")/lib.sh"
: "${LTPROF_INSTALL_PREFIX:?}" "${LTPROF_INSTALL_LIBDIR:?}" "${LTPROF_INSTALL_INCLUDEDIR:?}"
: "${LTPROF_INSTALL_BINDIR:?}" "${LTPROF_BT2_PLUGIN_INSTALL_DIR:?}"

skip_under address "it builds a program without ASan against the installed library, which an ASan library cannot join"
require_built
dest=$IT_TMP/dest
abs() { case "$1" in /*) echo "$1" ;; *) echo "$LTPROF_INSTALL_PREFIX/$1" ;; esac; }
libdir=$dest$(abs "$LTPROF_INSTALL_LIBDIR")
incdir=$dest$(abs "$LTPROF_INSTALL_INCLUDEDIR")
bindir=$dest$(abs "$LTPROF_INSTALL_BINDIR")
plugdir=$dest$(abs "$LTPROF_BT2_PLUGIN_INSTALL_DIR")

step "DESTDIR=$dest cmake --install $LTPROF_BUILD_DIR (prefix $LTPROF_INSTALL_PREFIX)"
DESTDIR=$dest run_limited 120 cmake --install "$LTPROF_BUILD_DIR" >"$IT_TMP/install.log" ||
    { cat "$IT_TMP/install.log"; fail "cmake --install failed"; }
(cd "$dest" && find . -type f -o -type l | sort) | tee "$IT_TMP/files.txt"
outside=$(grep -v "^\.$LTPROF_INSTALL_PREFIX/\|^\.$(abs "$LTPROF_BT2_PLUGIN_INSTALL_DIR")/" \
          "$IT_TMP/files.txt" || true)
[ -z "$outside" ] || echo "note: installed outside the prefix: $outside"

step "files"
for f in "$plugdir/babeltrace2-plugin-ltprof.so" "$incdir/ltprof/ltprof.h" "$libdir/libltprof.so" \
         "$libdir/pkgconfig/ltprof.pc" "$bindir/ltprof"; do
    if [ -e "$f" ]; then
        echo "  ok    ${f#"$dest"}"
    else
        soft_fail "not installed: ${f#"$dest"}"
    fi
done
[ ! -e "$dest/usr/lib/babeltrace2/plugins/babeltrace2-plugin-ltprof.so" ] ||
    [ "$LTPROF_BT2_PLUGIN_INSTALL_DIR" = /usr/lib/babeltrace2/plugins ] ||
    soft_fail "plugin also in /usr/lib/babeltrace2/plugins"

step "babeltrace2 --plugin-path=${plugdir#"$dest"} list-plugins"
run_limited 60 babeltrace2 --omit-home-plugin-path --omit-system-plugin-path \
    --plugin-path="$plugdir" list-plugins >"$IT_TMP/plugins.txt" 2>&1 || true
grep -A3 -i 'ltprof' "$IT_TMP/plugins.txt" | sed -n 1,12p
grep -q "sink\.ltprof\.pprof" "$IT_TMP/plugins.txt" ||
    soft_fail "babeltrace2 does not list sink.ltprof.pprof from the installed plugin"

step "pkg-config --cflags --libs ltprof, then build and run a program"
export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_LIBDIR=$libdir/pkgconfig
flags=$(pkg-config --cflags --libs ltprof) || fail "pkg-config --cflags --libs ltprof failed"
echo "pkg-config: $flags"
cat >"$IT_TMP/use.c" <<'PROG'
#include <ltprof/ltprof.h>
#include <stdio.h>
int main(void)
{
    printf("ltprof %s engine %s\n", ltprof_version(), ltprof_cpu_engine());
    return 0;
}
PROG
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -o "$IT_TMP/use" "$IT_TMP/use.c" $flags ||
    fail "a program using pkg-config's flags does not build"
# shellcheck disable=SC2086
c++ -x c++ -Wall -Werror -o "$IT_TMP/use_cpp" "$IT_TMP/use.c" $flags ||
    soft_fail "ltprof.h does not build as C++"
ldd "$IT_TMP/use" | grep ltprof || true
out=$(LD_LIBRARY_PATH=$libdir run_limited 30 "$IT_TMP/use") || fail "the program does not run"
echo "$out"
ldd_path=$(LD_LIBRARY_PATH=$libdir ldd "$IT_TMP/use" |
           sed -n 's/.*libltprof[^ ]* => \([^ ]*\).*/\1/p')
echo "libltprof.so resolved to $ldd_path"
case "$ldd_path" in
    "$dest"/*) ;;
    *) soft_fail "program resolved libltprof.so to '$ldd_path', not the staged copy" ;;
esac
it_finish
