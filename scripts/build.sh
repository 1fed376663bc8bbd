#!/usr/bin/env bash
# Configures and builds mod_validate_jwt in the source tree. FRESH=1 starts from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${FRESH:-0}" = 1 ] && [ -f Makefile ]; then
  make -s distclean >/dev/null 2>&1 || true
fi
if [ ! -f configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
  autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
  ./configure --enable-werror ${CONFIGURE_FLAGS:-}
fi
make -j"$(nproc)"
