#!/usr/bin/env bash
# Installs the Debian 12 packages that paidoc's build, tests and benchmarks
# need. Idempotent: packages already present are skipped, and apt is not
# touched at all when nothing is missing.
#
#   scripts/install-deps.sh          build + test packages
#   scripts/install-deps.sh --test   also what the tests use to check exports
#                                    (LibreOffice, poppler-utils), the SMTP
#                                    stand-in of the mail tests (aiosmtpd) and the
#                                    browser journeys (chromium, nodejs, npm;
#                                    then `npm ci` in tests/e2e) and the
#                                    PostgreSQL server the tests start
#   scripts/install-deps.sh --bench  also wrk, nginx and PostgreSQL (server, pgbench) for bench/
#   scripts/install-deps.sh --fuzz   also clang and its libFuzzer / sanitizer runtimes,
#                                    for `make fuzz` (fuzz/README.md)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  mold                          # the linker (CMakeLists.txt uses it when present)
  libboost-dev                  # Beast + Asio (header-only)
  libsqlite3-dev                # storage, FTS5
  libpq-dev                     # the PostgreSQL backend (libpq)
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libicu-dev                    # encoding detection and conversion (GB18030)
  libssl-dev                    # SHA-256 of sources; later payment signatures
  zlib1g-dev libbrotli-dev      # gzip and Brotli response compression
  libsodium-dev                 # argon2id password hashes, random tokens
  libcurl4-openssl-dev          # outgoing mail (SMTP with STARTTLS/TLS)
  libqrencode-dev               # WeChat Pay code_url as an SVG QR code
  libopencc-dev                 # traditional->simplified Chinese for search (pulls libopencc-data: t2s, tw2s, s2t)
  libzip-dev libpugixml-dev     # .docx export and .docx sources (zip container, XML)
  libcmark-dev                  # .md sources (CommonMark)
  libcairo2-dev libpango1.0-dev # .pdf export
  libpoppler-cpp-dev            # paidoc trace: the text layer of a .pdf
  texlive-lang-chinese          # Fandol fonts (Song, Hei, Kai, Fang) for the .pdf export
  libgtest-dev libgmock-dev     # tests
  curl                          # used by the quick-start smoke check
)
want_e2e=0
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(wrk nginx-light postgresql) ;;  # postgresql: bench/pg.sh (server, pgbench)
    --fuzz) packages+=(clang libclang-rt-dev) ;;  # libclang-rt-dev: libclang_rt.fuzzer, asan, ubsan
    --test) packages+=(poppler-utils mupdf-tools libreoffice-writer-nogui
                       python3-aiosmtpd   # the SMTP stand-in of the mail tests
                       postgresql)        # the throw-away server of scripts/with-postgres.sh
            want_e2e=1 ;;
    *) echo "install-deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# The browser journeys' npm package (playwright-core, pinned by
# tests/e2e/package-lock.json), once: it drives the chromium above, so no
# browser is downloaded. Without the registry the journeys are skipped.
e2e_npm() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/e2e"
  [[ $want_e2e -eq 1 && -f $dir/package-lock.json ]] || return 0
  [[ -d $dir/node_modules/playwright-core ]] && return 0
  command -v npm >/dev/null || return 0
  echo "installing the browser journeys' npm packages (npm ci in tests/e2e)" >&2
  if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); then
    echo "install-deps.sh: the npm registry could not be reached; the browser journeys (e2e) will be skipped" >&2
  fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
# The browser journeys' programs are optional: a machine that already has
# them from elsewhere (node with its own npm) keeps them, and a machine
# where they cannot be installed skips the journeys instead of failing.
e2e_missing=()
if [[ $want_e2e -eq 1 ]]; then
  [[ -x /usr/bin/chromium ]] || installed chromium || e2e_missing+=(chromium)
  command -v node >/dev/null || installed nodejs || e2e_missing+=(nodejs)
  command -v npm >/dev/null || installed npm || e2e_missing+=(npm)
fi
if [[ ${#missing[@]} -eq 0 && ${#e2e_missing[@]} -eq 0 ]]; then
  e2e_npm
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Packages such as nginx must not start system services on install: the
# benchmarks start their own instances bound to 127.0.0.1 and stop them.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null
  $SUDO chmod +x $policy
  made_policy=1
fi
trap '[[ $made_policy -eq 1 ]] && $SUDO rm -f $policy' EXIT
$SUDO apt-get update -qq
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ ${#e2e_missing[@]} -gt 0 ]]; then
  echo "installing (browser journeys): ${e2e_missing[*]}" >&2
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${e2e_missing[@]}" >/dev/null; then
    echo "install-deps.sh: could not install ${e2e_missing[*]}; the browser journeys (e2e) will be skipped" >&2
  fi
fi
e2e_npm
