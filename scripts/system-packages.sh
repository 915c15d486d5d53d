# Sourced by the set-up scripts: install_system_packages WHY PACKAGE... installs Debian/Ubuntu
# packages with apt-get when run as root, or else says what to install and why, and stops.
install_system_packages() {
    local why="$1"
    shift
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    else
        echo "error: $why; install them as root: apt-get install $*" >&2
        exit 1
    fi
}
